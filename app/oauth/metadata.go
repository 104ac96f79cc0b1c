package oauth

import "github.com/keyward/keyward/app/scope"

// Metadata is the RFC 8414 authorization server metadata document.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// Metadata returns the server's metadata; endpoints hang off the issuer.
func (s *Service) Metadata() Metadata {
	iss := s.cfg.Issuer
	return Metadata{
		Issuer:                                 iss,
		AuthorizationEndpoint:                  iss + "/oauth/authorize",
		TokenEndpoint:                          iss + "/oauth/token",
		RevocationEndpoint:                     iss + "/oauth/revoke",
		IntrospectionEndpoint:                  iss + "/oauth/introspect",
		ScopesSupported:                        SupportedScopes(),
		ResponseTypesSupported:                 []string{"code"},
		ResponseModesSupported:                 []string{"query"},
		GrantTypesSupported:                    []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported:      []string{"client_secret_basic", "client_secret_post", "none"},
		RevocationEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		// Resource servers may also use their KEYWARD_VERIFY_TOKENS bearer.
		IntrospectionEndpointAuthMethodsSupported:  []string{"client_secret_basic", "client_secret_post", "bearer"},
		CodeChallengeMethodsSupported:              []string{pkceS256},
		AuthorizationResponseIssParameterSupported: true,
	}
}

// SupportedScopes lists every scope a client may request: "full" and each
// area at view and manage level.
func SupportedScopes() []string {
	out := []string{"full"}
	for _, a := range scope.All() {
		out = append(out, a.String()+":view", a.String()+":manage")
	}
	return out
}
