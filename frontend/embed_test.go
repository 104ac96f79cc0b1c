package frontend

import (
	"io/fs"
	"strings"
	"testing"
)

func TestDistHasIndexAndAssets(t *testing.T) {
	d := Dist()
	index, err := fs.ReadFile(d, "index.html")
	if err != nil {
		t.Fatalf("index.html: %v (run npm run build in frontend/)", err)
	}
	if !strings.Contains(string(index), "./assets/") {
		t.Errorf("index.html does not load relative ./assets/: %s", index)
	}
	assets, err := fs.ReadDir(d, "assets")
	if err != nil || len(assets) == 0 {
		t.Fatalf("assets: %v (%d files)", err, len(assets))
	}
}
