// Package frontend embeds the built admin console and self-service pages
// (frontend/dist, built by `npm run build` and committed), so the server
// binary serves them with no Node.js at run time.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built single-page app, rooted at dist/ (index.html and
// assets/).
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: fs.Sub cannot fail here
	}
	return sub
}
