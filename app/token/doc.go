// Package token creates and checks keyward secrets: API keys, OAuth access
// and refresh tokens, OAuth client secrets and authorization codes.
//
// # Format
//
// Every secret is ASCII and has three parts with nothing around them:
//
//	<prefix>_<body><checksum>
//
// The prefix names the kind of secret:
//
//	kwk   API key
//	kwa   OAuth access token
//	kwr   OAuth refresh token
//	kwcs  OAuth client secret
//	kwac  OAuth authorization code
//
// The rest is defined as follows:
//
//   - "_" is a single underscore (0x5F).
//   - body is 43 characters drawn uniformly at random from the base62
//     alphabet below, using a cryptographic random source: 43*log2(62) is
//     just over 256 bits of entropy.
//   - checksum is the CRC-32 (IEEE 802.3 polynomial, as in zlib, gzip and
//     Go's crc32.ChecksumIEEE) of the ASCII bytes "<prefix>_<body>", written
//     as a base62 number, most significant digit first, left-padded with
//     "0" to exactly 6 characters (62^6 > 2^32, so 6 always suffice).
//
// The base62 alphabet is in ASCII order, digit value = position:
//
//	0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
//
// A secret is therefore len(prefix)+50 characters long: 53 for kwk, kwa and
// kwr, 54 for kwcs and kwac. Secrets are case-sensitive; nothing else
// (whitespace, padding, separators) is part of a secret.
//
// # Scanning
//
// A secret scanner can find candidates with
//
//	\b(kwk|kwa|kwr|kwcs|kwac)_[0-9A-Za-z]{49}\b
//
// and discard false positives by recomputing the checksum over everything
// before the last 6 characters. For example, with the body
// "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg" (not random; for testing
// only) the API key is
//
//	kwk_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg2HyWtF
//
// # Storage
//
// keyward never stores a secret: it stores [Hash] (SHA-256 of the whole
// secret string) for lookup and [Hint] (prefix and last four characters) for
// display. [Parse] checks shape and checksum without any I/O, so malformed or
// mistyped secrets are refused before a database lookup.
package token
