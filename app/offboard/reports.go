package offboard

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/keyward/keyward/models"
)

// ReportDocument is a report as exported (JSON download and webhook
// delivery).
type ReportDocument struct {
	ID            int64           `json:"id"`
	Kind          string          `json:"kind"`
	RunID         *int64          `json:"runId,omitempty"`
	Status        string          `json:"status"`
	StartedAt     time.Time       `json:"startedAt"`
	FinishedAt    time.Time       `json:"finishedAt"`
	DurationMS    int64           `json:"durationMs"`
	OwnersChecked int             `json:"ownersChecked"`
	Revoked       int             `json:"revoked"`
	Stale         int             `json:"stale"`
	Expired       int             `json:"expired"`
	Errors        int             `json:"errors"`
	Error         string          `json:"error,omitempty"`
	Summary       json.RawMessage `json:"summary"`
	DeliveredAt   *time.Time      `json:"deliveredAt,omitempty"`
	DeliveryError string          `json:"deliveryError,omitempty"`
	Items         []ReportLine    `json:"items,omitempty"`
	ItemsOmitted  bool            `json:"itemsOmitted,omitempty"`
}

// ReportLine is one item of an exported report.
type ReportLine struct {
	Kind         string     `json:"kind"`
	CredentialID string     `json:"credentialId,omitempty"`
	Owner        string     `json:"ownerAccountId,omitempty"`
	Reason       string     `json:"reason,omitempty"`
	Detail       string     `json:"detail,omitempty"`
	At           *time.Time `json:"at,omitempty"`
}

// Document converts a stored report (without items).
func Document(r *models.Report) ReportDocument {
	summary := json.RawMessage(r.Summary)
	if !json.Valid(summary) {
		summary = json.RawMessage("{}")
	}
	return ReportDocument{
		ID: r.ID, Kind: r.Kind, RunID: r.RunID, Status: r.Status, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DurationMS: r.DurationMS, OwnersChecked: r.OwnersChecked, Revoked: r.Revoked, Stale: r.Stale, Expired: r.Expired,
		Errors: r.Errors, Error: r.Error, Summary: summary, DeliveredAt: r.DeliveredAt, DeliveryError: r.DeliveryError,
	}
}

func line(it *models.ReportItem) ReportLine {
	return ReportLine{Kind: it.Kind, CredentialID: it.CredentialID, Owner: it.OwnerAccountID, Reason: it.Reason, Detail: it.Detail, At: it.At}
}

// ListReports returns a site's reports, newest first.
func (s *Service) ListReports(ctx context.Context, tenantID, kind string, before int64, limit int) ([]models.Report, error) {
	return s.Reports.List(ctx, tenantID, kind, before, limit)
}

// Report returns one report of a site with up to maxItems items (all when
// maxItems <= 0).
func (s *Service) Report(ctx context.Context, tenantID string, id int64, maxItems int) (*ReportDocument, error) {
	r, err := s.Reports.Get(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	doc := Document(r)
	doc.Items = []ReportLine{}
	err = s.eachItem(ctx, tenantID, id, func(it *models.ReportItem) bool {
		if maxItems > 0 && len(doc.Items) >= maxItems {
			doc.ItemsOmitted = true
			return false
		}
		doc.Items = append(doc.Items, line(it))
		return true
	})
	return &doc, err
}

// WriteReportCSV writes a site's report as CSV, one line per item, to w.
// The report is looked up first, so an unknown id writes nothing.
func (s *Service) WriteReportCSV(ctx context.Context, tenantID string, id int64, w io.Writer) error {
	r, err := s.Reports.Get(ctx, tenantID, id)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"report_id", "kind", "credential_id", "owner_account_id", "reason", "detail", "at"})
	rid := strconv.FormatInt(r.ID, 10)
	err = s.eachItem(ctx, tenantID, id, func(it *models.ReportItem) bool {
		at := ""
		if it.At != nil {
			at = it.At.UTC().Format(time.RFC3339)
		}
		return cw.Write([]string{rid, it.Kind, it.CredentialID, it.OwnerAccountID, it.Reason, csvSafe(it.Detail), at}) == nil
	})
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}

func (s *Service) eachItem(ctx context.Context, tenantID string, id int64, fn func(*models.ReportItem) bool) error {
	var after int64
	for {
		page, err := s.Reports.Items(ctx, tenantID, id, after, 1000)
		if err != nil {
			return err
		}
		for i := range page {
			if !fn(&page[i]) {
				return nil
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// csvSafe defuses cells a spreadsheet would run as a formula (credential
// names are user input).
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
