package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// FITClaims are the verified claims of a Forge Invocation Token.
type FITClaims struct {
	AppID           string // app.id
	AppVersion      string // app.appVersion
	InstallationID  string // app.installationId (changes on reinstall)
	APIBaseURL      string // app.apiBaseUrl: base of every product call
	EnvironmentType string // app.environment.type
	EnvironmentID   string // app.environment.id
	ModuleType      string // app.module.type
	ModuleKey       string // app.module.key
	CloudID         string // context.cloudId (UI calls only)
	SiteURL         string // context.siteUrl (UI calls only)
	Principal       string // invoking user's accountId (UI calls only)
	JTI             string
	IssuedAt        time.Time
	ExpiresAt       time.Time
}

// fitPayload is the payload of a FIT. Fields that only describe the call
// are decoded leniently (looseString) so a type change upstream does not
// lock every user out; the fields checked for security are strict.
type fitPayload struct {
	timeClaims
	Issuer   string   `json:"iss"`
	Audience audience `json:"aud"`
	JTI      string   `json:"jti"`
	App      struct {
		ID             looseString `json:"id"`
		AppVersion     looseString `json:"appVersion"`
		InstallationID string      `json:"installationId"`
		APIBaseURL     looseString `json:"apiBaseUrl"`
		Environment    struct {
			Type looseString `json:"type"`
			ID   looseString `json:"id"`
		} `json:"environment"`
		Module struct {
			Type looseString `json:"type"`
			Key  looseString `json:"key"`
		} `json:"module"`
	} `json:"app"`
	Context   fitContext  `json:"context"`
	Principal looseString `json:"principal"`
}

// fitContext is the context claim; anything but an object decodes as empty.
type fitContext struct {
	CloudID string
	SiteURL string
}

func (c *fitContext) UnmarshalJSON(b []byte) error {
	var v struct {
		CloudID looseString `json:"cloudId"`
		SiteURL looseString `json:"siteUrl"`
	}
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
	}
	c.CloudID, c.SiteURL = string(v.CloudID), string(v.SiteURL)
	return nil
}

// looseString accepts a JSON string, a number (kept as written) or an
// object with an "accountId" (the shape of principal, UNCONFIRMED); any
// other value decodes as empty.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = looseString(v)
	case c == '-' || '0' <= c && c <= '9':
		*s = looseString(b)
	case c == '{':
		var v struct {
			AccountID string `json:"accountId"`
		}
		if json.Unmarshal(b, &v) == nil {
			*s = looseString(v.AccountID)
		}
	}
	return nil
}

func (p *fitPayload) check(appID string, now time.Time, leeway time.Duration) error {
	if p.Issuer != fitIssuer {
		return fmt.Errorf("iss %q: %w", p.Issuer, ErrClaims)
	}
	if !p.Audience.contains(appID) {
		return fmt.Errorf("aud %q does not contain the app id: %w", p.Audience, ErrClaims)
	}
	if err := p.validate(now, leeway); err != nil {
		return err
	}
	if p.JTI == "" {
		return fmt.Errorf("missing jti: %w", ErrClaims)
	}
	if p.App.InstallationID == "" {
		return fmt.Errorf("missing app.installationId: %w", ErrClaims)
	}
	return nil
}

func (p *fitPayload) claims() *FITClaims {
	return &FITClaims{
		AppID:           string(p.App.ID),
		AppVersion:      string(p.App.AppVersion),
		InstallationID:  p.App.InstallationID,
		APIBaseURL:      string(p.App.APIBaseURL),
		EnvironmentType: string(p.App.Environment.Type),
		EnvironmentID:   string(p.App.Environment.ID),
		ModuleType:      string(p.App.Module.Type),
		ModuleKey:       string(p.App.Module.Key),
		CloudID:         p.Context.CloudID,
		SiteURL:         p.Context.SiteURL,
		Principal:       string(p.Principal),
		JTI:             p.JTI,
		IssuedAt:        p.issuedAt(),
		ExpiresAt:       p.expiresAt(),
	}
}
