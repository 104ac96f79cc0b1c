package handlers

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/inventory"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

var (
	credentialCSVHeader = []string{"id", "kind", "name", "hint", "access", "scopes", "status", "ownerAccountId", "ownerDisplayName", "ownerActive",
		"createdAt", "expiresAt", "lastUsedAt", "lastUsedIp", "lastUsedUserAgent", "useCount", "revokedAt", "revokedBy", "revokeReason", "clientId"}
	accessLogCSVHeader = []string{"id", "at", "credentialId", "kind", "ownerAccountId", "method", "path", "decision", "reason", "ip", "userAgent"}
)

func exportFormat(c echo.Context) string {
	if f := c.QueryParam("format"); f != "" {
		return f
	}
	return inventory.FormatCSV
}

// startDownload sends the headers of a streamed attachment.
func startDownload(c echo.Context, kind, format string, estimate int64) *bufio.Writer {
	h := c.Response().Header()
	if format == inventory.FormatCSV {
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		h.Set(echo.HeaderContentType, "application/x-ndjson")
	}
	name := fmt.Sprintf("keyward-%s-%s.%s", kind, time.Now().UTC().Format("20060102-150405"), format)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	h.Set("X-Total-Estimate", strconv.FormatInt(estimate, 10))
	h.Set("Cache-Control", "no-store")
	extendWriteDeadline(c)
	c.Response().WriteHeader(http.StatusOK)
	return bufio.NewWriterSize(c.Response(), 64<<10)
}

// exportStall is how long an export waits for a client that stopped
// reading before it gives up: the server has no overall write timeout (an
// export of a large site takes minutes), so each batch gets its own.
const exportStall = 2 * time.Minute

// extendWriteDeadline gives the next batch of an export exportStall to
// reach the client. Where the connection cannot take deadlines (tests'
// recorders) it does nothing.
func extendWriteDeadline(c echo.Context) {
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(exportStall))
}

// finishDownload flushes a finished stream, or aborts the connection when
// it failed halfway, so the client sees a broken download rather than a
// silently truncated file.
func (h *inventoryHandlers) finishDownload(c echo.Context, w *bufio.Writer, rows int64, err error) error {
	if err == nil {
		err = w.Flush()
	}
	log := requestLog(c, h.log)
	if err != nil {
		log.WithError(err).WithField("rows", rows).Error("export failed after it started")
		panic(http.ErrAbortHandler)
	}
	log.WithField("rows", rows).Info("export streamed")
	return nil
}

// flushBatch pushes a finished batch to the client.
func flushBatch(c echo.Context, w *bufio.Writer) error {
	if err := w.Flush(); err != nil {
		return err
	}
	c.Response().Flush()
	extendWriteDeadline(c)
	return nil
}

func (h *inventoryHandlers) exportCredentials(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	v := &models.ValidationError{}
	f, err := inventory.ParseFilter(c.QueryParam)
	collect(v, err)
	sort, err := inventory.ParseSort(c.QueryParam("sort"))
	collect(v, err)
	if err := v.Err(); err != nil {
		return err
	}
	format := exportFormat(c)
	exp, err := h.svc.ExportCredentials(c.Request().Context(), a, f, sort, format)
	if err != nil {
		return err
	}
	w := startDownload(c, "credentials", format, exp.Estimate)
	enc := newCredentialEncoder(w, format, exp.At)
	if err := enc.header(); err != nil {
		return h.finishDownload(c, w, 0, err)
	}
	n, err := exp.Each(c.Request().Context(), func(batch []store.InventoryCredential) error {
		for i := range batch {
			if err := enc.write(&batch[i]); err != nil {
				return err
			}
		}
		if err := enc.flush(); err != nil {
			return err
		}
		return flushBatch(c, w)
	})
	return h.finishDownload(c, w, n, err)
}

func (h *inventoryHandlers) exportAccessLog(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	f, err := inventory.ParseAccessLogFilter(c.QueryParam)
	if err != nil {
		return err
	}
	format := exportFormat(c)
	exp, err := h.svc.ExportAccessLog(c.Request().Context(), a, f, format)
	if err != nil {
		return err
	}
	w := startDownload(c, "access-log", format, exp.Estimate)
	var (
		cw  *csv.Writer
		je  *json.Encoder
		row = make([]string, len(accessLogCSVHeader))
	)
	if format == inventory.FormatCSV {
		cw = csv.NewWriter(w)
		if err := cw.Write(accessLogCSVHeader); err != nil {
			return h.finishDownload(c, w, 0, err)
		}
	} else {
		je = json.NewEncoder(w)
	}
	n, err := exp.Each(c.Request().Context(), func(batch []models.AccessLogEntry) error {
		if je != nil {
			for _, d := range toAccessLogDTOs(batch) {
				if err := je.Encode(d); err != nil {
					return err
				}
			}
			return flushBatch(c, w)
		}
		for _, e := range batch {
			row = append(row[:0], strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.CredentialID, string(e.CredentialKind),
				e.OwnerAccountID, e.Method, cell(e.Path), string(e.Decision), cell(e.Reason), cell(e.IP), cell(e.UserAgent))
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return flushBatch(c, w)
	})
	return h.finishDownload(c, w, n, err)
}

// credentialEncoder writes credentials as CSV rows or NDJSON lines, with
// the same fields as the list.
type credentialEncoder struct {
	csv *csv.Writer
	js  *json.Encoder
	now time.Time
	row []string
}

func newCredentialEncoder(w io.Writer, format string, now time.Time) *credentialEncoder {
	if format == inventory.FormatCSV {
		return &credentialEncoder{csv: csv.NewWriter(w), now: now, row: make([]string, 0, len(credentialCSVHeader))}
	}
	return &credentialEncoder{js: json.NewEncoder(w), now: now}
}

func (e *credentialEncoder) header() error {
	if e.csv == nil {
		return nil
	}
	return e.csv.Write(credentialCSVHeader)
}

func (e *credentialEncoder) write(c *store.InventoryCredential) error {
	d := toAdminCredential(c, e.now)
	if e.js != nil {
		return e.js.Encode(d)
	}
	e.row = append(e.row[:0], d.ID, d.Kind, cell(d.Name), d.Hint, d.Access, strings.Join(d.Scopes, " "), d.Status,
		d.Owner.AccountID, cell(c.OwnerDisplayName), strconv.FormatBool(d.Owner.Active),
		csvTime(&d.CreatedAt), csvTime(d.ExpiresAt), csvTime(d.LastUsedAt), cell(c.LastUsedIP), cell(c.LastUsedUA), strconv.FormatInt(d.UseCount, 10),
		csvTime(d.RevokedAt), c.RevokedBy, cell(c.RevokeReason), c.ClientID)
	return e.csv.Write(e.row)
}

func (e *credentialEncoder) flush() error {
	if e.csv == nil {
		return nil
	}
	e.csv.Flush()
	return e.csv.Error()
}

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// cell defuses text that a spreadsheet would run as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
