// Package order provides placed orders and the stores that keep them. SQLiteStore
// keeps orders in one SQLite file and is the embedded default. An order is written
// durably before a store's Create returns, so an acknowledged order survives a crash
// or power loss.
//
// The package does not build orders from carts (see package tools), price them (see
// package cart), or send them to a kitchen.
package order

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/voiceorder/voiceorder/internal/cart"
)

// Status is the stage an order has reached.
type Status string

// StatusPlaced is an order accepted from a guest.
const StatusPlaced Status = "placed"

// FirstNumber is the number of a restaurant's first order; later orders count up
// from it.
const FirstNumber = 101

// Order is a submitted cart. Amounts are in cents of Currency.
type Order struct {
	// ID is a random UUID assigned by the store.
	ID string `json:"id"`
	// Number is short for people to say ("101"), sequential per restaurant, assigned
	// by the store.
	Number       string `json:"number"`
	RestaurantID string `json:"restaurant_id"`
	SessionID    string `json:"session_id,omitempty"`
	// IdempotencyKey makes Create safe to retry: a second Create with the same key for
	// the same restaurant returns the first order.
	IdempotencyKey string      `json:"idempotency_key"`
	CustomerName   string      `json:"customer_name,omitempty"`
	Lines          []cart.Line `json:"lines"`
	Subtotal       int64       `json:"subtotal"`
	Tax            int64       `json:"tax"`
	Total          int64       `json:"total"`
	Currency       string      `json:"currency"`
	Status         Status      `json:"status"`
	// CreatedAt is in UTC.
	CreatedAt time.Time `json:"created_at"`
}

// Store keeps orders. Implementations are safe for concurrent use.
type Store interface {
	// Create stores o with a new ID and Number and returns it with created true, once
	// it is durable. When an order with the same RestaurantID and IdempotencyKey
	// exists, Create stores nothing and returns that order with created false.
	Create(ctx context.Context, o Order) (stored Order, created bool, err error)
	// Get returns the order with the given ID, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (Order, error)
	// List returns up to limit of a restaurant's orders, newest first. A limit ≤ 0
	// means DefaultListLimit; larger limits are cut to MaxListLimit.
	List(ctx context.Context, restaurantID string, limit int) ([]Order, error)
	// Close releases the store.
	Close() error
}

// Limits of Store.List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 1000
)

// Errors returned by stores.
var (
	ErrNotFound = errors.New("order not found")
	ErrClosed   = errors.New("order store is closed")
)

// Limits of what Create accepts.
const (
	// MaxKeyLength bounds IdempotencyKey, SessionID and RestaurantID in bytes.
	MaxKeyLength = 256
	// MaxCustomerName bounds CustomerName in characters (runes).
	MaxCustomerName = 100
)

// validate rejects an order a store must not keep: one without a restaurant, an
// idempotency key or lines, or whose totals do not add up.
func validate(o *Order) error {
	switch {
	case o.RestaurantID == "":
		return errors.New("restaurant id is empty")
	case o.IdempotencyKey == "":
		return errors.New("idempotency key is empty")
	case len(o.RestaurantID) > MaxKeyLength || len(o.IdempotencyKey) > MaxKeyLength || len(o.SessionID) > MaxKeyLength:
		return fmt.Errorf("restaurant id, idempotency key or session id is longer than %d bytes", MaxKeyLength)
	case utf8.RuneCountInString(o.CustomerName) > MaxCustomerName:
		return fmt.Errorf("customer name is longer than %d characters", MaxCustomerName)
	case len(o.Lines) == 0:
		return errors.New("order has no lines")
	case len(o.Lines) > cart.MaxLines:
		return fmt.Errorf("order has %d lines, more than %d", len(o.Lines), cart.MaxLines)
	}
	var subtotal int64
	for _, l := range o.Lines {
		if l.Quantity < 1 || l.Total != l.UnitPrice*int64(l.Quantity) {
			return fmt.Errorf("line %s: total %d is not unit price %d × quantity %d", l.ID, l.Total, l.UnitPrice, l.Quantity)
		}
		subtotal += l.Total
	}
	if subtotal != o.Subtotal || o.Total != o.Subtotal+o.Tax {
		return fmt.Errorf("totals do not add up: lines %d, subtotal %d, tax %d, total %d", subtotal, o.Subtotal, o.Tax, o.Total)
	}
	return nil
}
