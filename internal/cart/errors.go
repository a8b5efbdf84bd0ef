package cart

import "errors"

// ValidationError is a request the cart rejected. Field names the argument at fault
// (item_id, size, quantity, notes, line_id, modifiers, or a modifier group id such as
// milk). Message states what was wrong and what is allowed, in words both a model
// and a person can act on.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func invalid(field, message string) error {
	return &ValidationError{Field: field, Message: message}
}

// Errors returned by stores.
var (
	// ErrClosed is returned by a store after Close.
	ErrClosed = errors.New("cart store is closed")
	// ErrFull is returned when a new cart would exceed the store's capacity and every
	// cart it holds is in use, so none can be evicted.
	ErrFull = errors.New("cart store is full")
)
