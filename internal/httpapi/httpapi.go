// Package httpapi provides voiceorder's HTTP routes and middleware: the order and call
// read endpoints, health and readiness, JSON errors, panic recovery and request limits.
// The voice WebSockets are mounted here but implemented by the twilio and browser
// packages.
package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/order"
	"github.com/voiceorder/voiceorder/internal/session"
)

// maxListLimit bounds one page of orders.
const maxListLimit = 500

// Deps are the handlers and stores the routes use.
type Deps struct {
	Catalog      *menu.Catalog
	Orders       order.Store
	Carts        cart.Store
	Registry     *session.Registry
	Webhook      http.Handler // POST /voice/incoming
	TwilioVoice  http.Handler // /voice/stream
	BrowserVoice http.Handler // /voice-stream
	Kiosk        http.Handler // GET /, optional
	Metrics      http.Handler // GET /metrics, optional
	// Monitor, when set, returns the runtime monitor's status for /readyz.
	Monitor func() monitor.Status
	Logger  *slog.Logger
	// Ready reports readiness; shutdown turns it off before draining.
	Ready *atomic.Bool
}

// New returns the gateway's HTTP handler.
func New(d Deps) http.Handler {
	a := &api{d: d}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.health)
	mux.HandleFunc("GET /readyz", a.ready)
	mux.HandleFunc("GET /api/v1/menu", a.menu)
	mux.HandleFunc("GET /api/v1/orders/{id}", a.getOrder)
	mux.HandleFunc("GET /api/v1/orders", a.listOrders)
	mux.HandleFunc("GET /api/v1/calls/{id}", a.getCall)
	mux.HandleFunc("GET /api/v1/carts/{key}", a.getCart)
	mux.Handle("POST /voice/incoming", d.Webhook)
	mux.Handle("GET /voice/stream", d.TwilioVoice)
	mux.Handle("GET /voice-stream", d.BrowserVoice)
	if d.Metrics != nil {
		mux.Handle("GET /metrics", d.Metrics)
	}
	if d.Kiosk != nil {
		mux.Handle("GET /{$}", d.Kiosk)
	}
	return a.recoverPanics(mux)
}

type api struct{ d Deps }

func (a *api) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ready reports readiness with detail: live sessions and, when a monitor is wired, its
// last sample and active leak alerts. Alerts do not make the gateway unready: a slow
// leak is a reason to page someone, not to stop taking calls.
func (a *api) ready(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"status": "ready", "sessions": a.d.Registry.Active()}
	if a.d.Monitor != nil {
		st := a.d.Monitor()
		body["monitor"] = map[string]any{"last": st.Last, "alerts": st.Alerts}
	}
	status := http.StatusOK
	if a.d.Ready != nil && !a.d.Ready.Load() {
		body["status"] = "draining"
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

func (a *api) menu(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.d.Catalog)
}

func (a *api) getOrder(w http.ResponseWriter, r *http.Request) {
	o, err := a.d.Orders.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, order.ErrNotFound):
		writeError(w, http.StatusNotFound, "order_not_found", "no order with id "+strconv.Quote(r.PathValue("id")))
	case err != nil:
		a.internalError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, o)
	}
}

func (a *api) listOrders(w http.ResponseWriter, r *http.Request) {
	restaurant := r.URL.Query().Get("restaurant")
	if restaurant == "" {
		writeError(w, http.StatusBadRequest, "missing_restaurant", "add ?restaurant=ID; this gateway serves "+strconv.Quote(a.d.Catalog.Restaurant.ID))
		return
	}
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListLimit {
			writeError(w, http.StatusBadRequest, "invalid_limit", "limit must be a whole number between 1 and "+strconv.Itoa(maxListLimit))
			return
		}
		limit = n
	}
	orders, err := a.d.Orders.List(r.Context(), restaurant, limit)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if orders == nil {
		orders = []order.Order{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": orders})
}

func (a *api) getCall(w http.ResponseWriter, r *http.Request) {
	rec, ok := a.d.Registry.Lookup(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "call_not_found", "no live or recent conversation with id "+strconv.Quote(r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (a *api) getCart(w http.ResponseWriter, r *http.Request) {
	c, ok, err := a.d.Carts.Get(r.Context(), r.PathValue("key"))
	switch {
	case err != nil:
		a.internalError(w, r, err)
	case !ok:
		writeError(w, http.StatusNotFound, "cart_not_found", "no open cart with key "+strconv.Quote(r.PathValue("key"))+"; carts are keyed by session id and expire when idle")
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

func (a *api) internalError(w http.ResponseWriter, r *http.Request, err error) {
	a.d.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "the request failed; see the gateway log")
}

// recoverPanics turns a panicking handler into a 500 and a logged stack, so one bad
// request never takes the process down.
func (a *api) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.d.Logger.Error("handler panicked", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				writeError(w, http.StatusInternalServerError, "internal", "the request failed; see the gateway log")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) // the status is sent; a failed write means the client left
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}
