package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// seedKey creates a key the honest way, through keyward's API only: it
// serves a fresh RSA key as the Connect install-key service, sends a signed
// install for the site, then creates an API key through the self-service
// API with a Connect context JWT. It returns the key's secret.
func seedKey(base, keysAddr, clientKey, account, scopes string) (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	const kid = "loadgen-install-key"
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	ln, err := net.Listen("tcp", keysAddr)
	if err != nil {
		return "", fmt.Errorf("serve install key on %s: %w", keysAddr, err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/"+kid {
			http.NotFound(w, r)
			return
		}
		w.Write(pub)
	})}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	shared := make([]byte, 32)
	rand.Read(shared)
	sharedSecret := hex.EncodeToString(shared)
	install, _ := json.Marshal(map[string]string{
		"key": "io.keyward.tempo-access", "clientKey": clientKey, "sharedSecret": sharedSecret,
		"baseUrl": "https://" + clientKey + ".atlassian.net", "productType": "jira", "eventType": "installed",
	})
	now := time.Now()
	installJWT, err := signJWT(map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}, map[string]any{
		"iss": clientKey, "aud": []string{base}, "iat": now.Unix(), "exp": now.Add(3 * time.Minute).Unix(),
		"qsh": qsh("POST", "/lifecycle/installed"),
	}, func(input []byte) ([]byte, error) {
		d := sha256.Sum256(input)
		return rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	})
	if err != nil {
		return "", err
	}
	if _, err := post(base+"/lifecycle/installed", "JWT "+installJWT, install, http.StatusNoContent); err != nil {
		return "", fmt.Errorf("signed install: %w", err)
	}

	contextJWT, _ := signJWT(map[string]any{"alg": "HS256", "typ": "JWT"}, map[string]any{
		"iss": clientKey, "sub": account, "iat": now.Unix(), "exp": now.Add(3 * time.Minute).Unix(), "qsh": "context-qsh",
	}, func(input []byte) ([]byte, error) {
		m := hmac.New(sha256.New, []byte(sharedSecret))
		m.Write(input)
		return m.Sum(nil), nil
	})
	create := map[string]any{"name": "loadgen " + now.UTC().Format(time.RFC3339), "access": "full"}
	if scopes != "full" {
		create = map[string]any{"name": create["name"], "scopes": strings.Fields(scopes)}
	}
	body, _ := json.Marshal(create)
	resp, err := post(base+"/api/me/v1/keys", "JWT "+contextJWT, body, http.StatusCreated)
	if err != nil {
		return "", fmt.Errorf("create key: %w", err)
	}
	var issued struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(resp, &issued); err != nil || issued.Secret == "" {
		return "", fmt.Errorf("create key: no secret in %.200s", resp)
	}
	return issued.Secret, nil
}

func post(url, authz string, body []byte, want int) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", authz)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != want {
		return nil, fmt.Errorf("status %d: %.300s", res.StatusCode, b)
	}
	return b, nil
}

// qsh is the Connect query string hash of a request without a query.
func qsh(method, path string) string {
	sum := sha256.Sum256([]byte(strings.ToUpper(method) + "&" + path + "&"))
	return hex.EncodeToString(sum[:])
}

func signJWT(header, claims map[string]any, sign func([]byte) ([]byte, error)) (string, error) {
	enc := base64.RawURLEncoding
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sig, err := sign([]byte(input))
	if err != nil {
		return "", errors.New("sign: " + err.Error())
	}
	return input + "." + enc.EncodeToString(sig), nil
}
