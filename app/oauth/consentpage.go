package oauth

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/keyward/keyward/models"
)

// ConsentModuleKey is the key of the Connect generalPages module that shows
// the consent page (manifest/atlassian-connect.json.tmpl); its url takes the
// request id from the ac.request context parameter.
const ConsentModuleKey = "keyward-consent"

// ConsentPages says where the browser is sent to approve or deny an
// authorization request: a page inside the site's Jira, so that Jira
// identifies the user (keyward has no login form).
type ConsentPages struct {
	// Dev sends every site to BaseURL/ui/consent?request=<id> on keyward
	// itself (KEYWARD_DEV=1; the dev user is identified by dev mode).
	Dev     bool
	BaseURL string // KEYWARD_BASE_URL
	AppKey  string // Connect app key
	// ForgePattern is KEYWARD_FORGE_CONSENT_URL for Forge-only sites, with
	// the placeholders {siteUrl} and {request}. UNCONFIRMED: the URL of a
	// Forge global page with a parameter depends on the Forge module the
	// frontend uses, so it is configured rather than built in.
	ForgePattern string
}

// URL returns the consent page for a request of the site t.
//
// Connect sites: {baseUrl}/plugins/servlet/ac/{appKey}/keyward-consent?ac.request=<id>.
// UNCONFIRMED: this is the commonly seen address of a Connect general page,
// with "ac."-prefixed query parameters handed to the module's url as
// {ac.request}; it is built here and nowhere else.
func (p ConsentPages) URL(t *models.Tenant, requestID string) (string, error) {
	id := url.QueryEscape(requestID)
	switch {
	case p.Dev:
		return strings.TrimRight(p.BaseURL, "/") + "/ui/consent?request=" + id, nil
	case t.IsConnect() && t.BaseURL != "":
		return strings.TrimRight(t.BaseURL, "/") + "/plugins/servlet/ac/" + url.PathEscape(p.AppKey) + "/" + ConsentModuleKey + "?ac.request=" + id, nil
	case t.IsForge() && t.BaseURL != "" && p.ForgePattern != "":
		r := strings.NewReplacer("{siteUrl}", strings.TrimRight(t.BaseURL, "/"), "{request}", id)
		return r.Replace(p.ForgePattern), nil
	}
	return "", fmt.Errorf("no consent page for site %s (Forge sites need KEYWARD_FORGE_CONSENT_URL): %w", t.ID, models.ErrUnavailable)
}
