package offboard

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/keyward/keyward/models"
)

// deliveredItems caps the items sent with a delivered report; the admin
// API has them all.
const deliveredItems = 1000

// Sign returns the X-Keyward-Signature value of a delivered body:
// "sha256=" and the hex HMAC-SHA256 of the body with the site's secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// deliver posts a finished report to the site's webhook, when it set one,
// and records the outcome on the report. Failures are recorded, never
// returned: the report itself is stored either way.
func (s *Service) deliver(ctx context.Context, t *models.Tenant, settings *models.OffboardingSettings, rep *models.Report) {
	if settings.ReportWebhookURL == "" || len(settings.ReportWebhookSecretEnc) == 0 {
		return
	}
	err := s.post(ctx, t, settings, rep)
	if err != nil {
		s.Log.WithField("tenant", t.ID).WithField("report", rep.ID).WithError(err).Warn("report delivery failed")
		_ = s.Reports.SetDelivery(ctx, t.ID, rep.ID, nil, clipError(err))
		return
	}
	now := s.now()
	rep.DeliveredAt, rep.DeliveryError = &now, ""
	_ = s.Reports.SetDelivery(ctx, t.ID, rep.ID, &now, "")
}

func (s *Service) post(ctx context.Context, t *models.Tenant, settings *models.OffboardingSettings, rep *models.Report) error {
	secret, err := s.Sealer.Open(settings.ReportWebhookSecretEnc, secretContext(t.ID))
	if err != nil {
		return fmt.Errorf("open report webhook secret: %w", err)
	}
	doc, err := s.Report(ctx, t.ID, rep.ID, deliveredItems)
	if err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		Event  string          `json:"event"`
		Site   string          `json:"site"`
		Report *ReportDocument `json:"report"`
	}{Event: "report." + rep.Kind, Site: t.BaseURL, Report: doc})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, settings.ReportWebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "keyward")
	req.Header.Set("X-Keyward-Event", "report."+rep.Kind)
	req.Header.Set("X-Keyward-Delivery", strconv.FormatInt(rep.ID, 10))
	req.Header.Set("X-Keyward-Signature", Sign(secret, body))
	client := *s.opts.HTTPClient
	client.CheckRedirect = noRedirects // a redirect is an answer, never followed
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			return errPrivateAddress
		}
		return errors.New("post report: the webhook could not be reached")
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("report webhook answered %d", resp.StatusCode)
	}
	return nil
}
