package voicecall

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

const (
	// recordWait bounds the wait for the gateway to mark the call record ended after
	// hang-up; the session ends within milliseconds of the stop message.
	recordWait = 5 * time.Second
	// recordPoll is the interval between reads of the call record.
	recordPoll = 50 * time.Millisecond
	// maxRecordBytes bounds the call record; the gateway keeps at most 200 turns and
	// 200 tool calls.
	maxRecordBytes = 8 << 20
)

// errRecordNotFound reports that the gateway has no record of the call (yet).
var errRecordNotFound = errors.New("call record not found")

// callRecord is the part of GET /api/v1/calls/{id} the caller reports.
type callRecord struct {
	ID        string           `json:"id"`
	EndedAt   *time.Time       `json:"ended_at"`
	EndReason string           `json:"end_reason"`
	Turns     []recordTurn     `json:"turns"`
	ToolCalls []recordToolCall `json:"tool_calls"`
	Cart      json.RawMessage  `json:"cart"`
	Order     json.RawMessage  `json:"order"`
}

type recordTurn struct {
	SpokenTurn
	At time.Time `json:"at"`
}

type recordToolCall struct {
	ToolCall
	At time.Time `json:"at"`
}

// fill copies the conversation into r.
func (c *callRecord) fill(r *Result) {
	for _, t := range c.Turns {
		r.Turns = append(r.Turns, t.SpokenTurn)
	}
	for _, t := range c.ToolCalls {
		r.ToolCalls = append(r.ToolCalls, t.ToolCall)
	}
	r.Cart = nilIfNull(c.Cart)
	r.Order = nilIfNull(c.Order)
}

// print writes the turns and tool calls to w in the order they happened.
func (c *callRecord) print(w io.Writer) {
	if w == nil {
		return
	}
	type entry struct {
		at   time.Time
		line string
	}
	entries := make([]entry, 0, len(c.Turns)+len(c.ToolCalls))
	for _, t := range c.Turns {
		entries = append(entries, entry{t.At, formatTurn(t.SpokenTurn)})
	}
	for _, t := range c.ToolCalls {
		entries = append(entries, entry{t.At, formatToolCall(t.ToolCall)})
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return a.at.Compare(b.at) })
	for _, e := range entries {
		printLine(w, e.line)
	}
}

// fetchRecord reads the call record until the gateway has marked it ended, for at
// most recordWait. After that it returns the last record read, unended, with a
// warning in the log.
func fetchRecord(ctx context.Context, client *http.Client, server, id string, log *slog.Logger) (*callRecord, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, recordWait)
	defer cancel()
	ticker := time.NewTicker(recordPoll)
	defer ticker.Stop()

	var last *callRecord
	var lastErr error
	for {
		rec, err := getRecord(ctx, client, server, id)
		switch {
		case err == nil && rec.EndedAt != nil:
			return rec, nil
		case err == nil:
			last = rec
		case errors.Is(err, errRecordNotFound):
			lastErr = err
		case ctx.Err() == nil:
			return nil, err
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return nil, context.Cause(parent)
			}
			if last != nil {
				log.Warn("call record not marked ended in time; reporting it as last read", "call_sid", id, "waited", recordWait)
				return last, nil
			}
			return nil, fmt.Errorf("read call record %s: %w", id, cmp.Or(lastErr, context.Cause(ctx)))
		case <-ticker.C:
		}
	}
}

func getRecord(ctx context.Context, client *http.Client, server, id string) (*callRecord, error) {
	u := server + "/api/v1/calls/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("read call record: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read call record: %w", err)
	}
	defer drainClose(resp.Body)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, errRecordNotFound
	default:
		return nil, fmt.Errorf("read call record %s: %s: %s", u, resp.Status, errorBody(resp.Body))
	}
	var rec callRecord
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxRecordBytes)).Decode(&rec); err != nil {
		return nil, fmt.Errorf("read call record %s: %w", u, err)
	}
	return &rec, nil
}
