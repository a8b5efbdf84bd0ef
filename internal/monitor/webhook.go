package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Webhook delivery results: the result label of alert_webhooks_total.
const (
	webhookSent    = "sent"
	webhookFailed  = "failed"
	webhookDropped = "dropped"
)

const (
	// webhookQueueSize bounds alerts waiting for delivery. Five kinds with a
	// cooldown each rarely queue more than a few; when the receiver is down
	// for long, the oldest are dropped and counted.
	webhookQueueSize = 16
	// maxDrainBytes bounds how much of a response body is read so the
	// connection can be reused.
	maxDrainBytes = 64 << 10
)

// Payload is the JSON body of an alert webhook request.
type Payload struct {
	Kind           AlertKind `json:"kind"`
	Current        float64   `json:"current"`
	Baseline       float64   `json:"baseline"`
	Limit          float64   `json:"limit"`
	Margin         float64   `json:"margin"`
	Sessions       int       `json:"sessions"`
	Goroutines     int       `json:"goroutines"`
	HeapInuseBytes uint64    `json:"heap_inuse_bytes"`
	HeapLiveBytes  uint64    `json:"heap_live_bytes"`
	OpenFDs        int       `json:"open_fds"`
	At             time.Time `json:"at"`
	// Service is always "voiceorder".
	Service string `json:"service"`
}

func newPayload(a Alert, s Sample) Payload {
	return Payload{
		Kind: a.Kind, Current: a.Current, Baseline: a.Baseline, Limit: a.Limit, Margin: a.Margin,
		Sessions: a.Sessions, Goroutines: s.Goroutines, HeapInuseBytes: s.HeapInuseBytes,
		HeapLiveBytes: s.HeapLiveBytes, OpenFDs: s.OpenFDs, At: s.At, Service: "voiceorder",
	}
}

// WebhookStatus counts webhook deliveries since the sampler was made.
type WebhookStatus struct {
	Sent    uint64 `json:"sent"`
	Failed  uint64 `json:"failed"`
	Dropped uint64 `json:"dropped"`
	// Failing is set from a failed delivery until the next one succeeds.
	Failing   bool   `json:"failing"`
	LastError string `json:"last_error,omitempty"`
}

// webhook sends alert payloads from a bounded queue, one at a time.
type webhook struct {
	url     string
	client  *http.Client
	timeout time.Duration
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
	queue   chan Payload

	mu           sync.Mutex
	status       WebhookStatus
	failures     int // consecutive, since failingSince
	failingSince time.Time
}

func newWebhook(cfg Config) *webhook {
	return &webhook{
		url:     cfg.WebhookURL,
		client:  cfg.HTTPClient,
		timeout: cfg.WebhookTimeout,
		log:     cfg.Logger,
		metrics: cfg.Metrics,
		now:     cfg.Now,
		queue:   make(chan Payload, webhookQueueSize),
	}
}

// enqueue queues p without blocking, dropping the oldest queued payload
// when the queue is full.
func (w *webhook) enqueue(p Payload) {
	for {
		select {
		case w.queue <- p:
			return
		default:
		}
		select {
		case <-w.queue:
			w.mu.Lock()
			w.status.Dropped++
			w.mu.Unlock()
			w.metrics.webhookResult(webhookDropped)
		default:
			// The sender took one meanwhile; try again.
		}
	}
}

// run sends queued payloads until ctx ends.
func (w *webhook) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-w.queue:
			w.record(w.send(ctx, p))
		}
	}
}

func (w *webhook) send(ctx context.Context, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", redactURL(err))
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := w.client.Do(req)
	if err != nil {
		return redactURL(err)
	}
	defer resp.Body.Close()
	// Read a bounded part of the body so the connection can be reused; a
	// read error here changes nothing about the delivery.
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrainBytes)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver responded with HTTP %d", resp.StatusCode)
	}
	return nil
}

// redactURL drops the URL from a *url.Error, because a webhook URL often
// carries its secret in the path.
func redactURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return fmt.Errorf("%s: %w", urlErr.Op, urlErr.Err)
	}
	return err
}

// record updates the counts after one delivery. The first failure of a run
// of failures is logged; the run is summarized when a delivery succeeds.
func (w *webhook) record(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.status.Failed++
		w.status.Failing = true
		w.status.LastError = err.Error()
		w.metrics.webhookResult(webhookFailed)
		w.failures++
		if w.failures == 1 {
			w.failingSince = w.now()
			w.log.Warn("alert webhook failed; further failures are summarized on recovery", "err", err)
		}
		return
	}
	w.status.Sent++
	w.metrics.webhookResult(webhookSent)
	if w.failures > 0 {
		w.log.Info("alert webhook recovered", "failures", w.failures,
			"duration", w.now().Sub(w.failingSince).Round(time.Second))
	}
	w.failures = 0
	w.status.Failing = false
	w.status.LastError = ""
}

func (w *webhook) snapshot() WebhookStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}
