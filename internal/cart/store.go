package cart

import "context"

// Store keeps carts by key. Implementations serialize changes to one cart and let
// changes to different carts run in parallel.
type Store interface {
	// Update runs fn on the cart stored under key, creating an empty cart for
	// restaurantID when there is none, and stores the result when fn returns nil.
	// When fn returns an error nothing is stored and Update returns that error with
	// the cart as it was. fn runs while the cart is locked, so it must not call the
	// store for the same key. Update returns a copy that the caller may keep.
	Update(ctx context.Context, key, restaurantID string, fn func(*Cart) error) (Cart, error)
	// Get returns a copy of the cart stored under key and whether there is one.
	Get(ctx context.Context, key string) (Cart, bool, error)
	// Delete removes the cart stored under key. Deleting a missing cart is not an error.
	Delete(ctx context.Context, key string) error
	// Len returns the number of carts stored.
	Len() int
	// Close releases the store. Calls after Close return ErrClosed.
	Close() error
}
