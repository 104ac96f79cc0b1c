// Package manifest renders the Atlassian Connect descriptor and the Forge
// manifest from the templates beside this file.
package manifest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"text/template"
)

//go:embed atlassian-connect.json.tmpl
var connectTemplate string

//go:embed manifest.yml.tmpl
var forgeTemplate string

// Params are the deployment values the templates need.
type Params struct {
	AppKey     string // Connect app key
	BaseURL    string // public base URL, no trailing slash
	ForgeAppID string // ari:cloud:ecosystem::app/<uuid>
}

var funcs = template.FuncMap{"json": func(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}}

var (
	connectTmpl = template.Must(template.New("connect").Funcs(funcs).Parse(connectTemplate))
	forgeTmpl   = template.Must(template.New("forge").Funcs(funcs).Parse(forgeTemplate))
)

// Connect renders atlassian-connect.json. The result is checked to be valid JSON.
func Connect(p Params) ([]byte, error) {
	var buf bytes.Buffer
	if err := connectTmpl.Execute(&buf, p); err != nil {
		return nil, fmt.Errorf("render connect descriptor: %w", err)
	}
	if !json.Valid(buf.Bytes()) {
		return nil, fmt.Errorf("render connect descriptor: result is not valid JSON")
	}
	return buf.Bytes(), nil
}

// Forge renders manifest.yml for `forge deploy`.
func Forge(p Params) ([]byte, error) {
	if p.ForgeAppID == "" {
		p.ForgeAppID = "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000 # set KEYWARD_FORGE_APP_ID"
	}
	var buf bytes.Buffer
	if err := forgeTmpl.Execute(&buf, p); err != nil {
		return nil, fmt.Errorf("render forge manifest: %w", err)
	}
	return buf.Bytes(), nil
}
