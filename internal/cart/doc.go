// Package cart provides a guest's cart: lines priced from the menu catalog, totals and
// tax in integer cents, spoken line descriptions, and stores that serialize changes to
// one cart. MemoryStore keeps carts in memory, bounded in count and expired after
// inactivity.
//
// Prices come only from the catalog. A request names an item, size and options by id,
// name or alias, and the cart looks up every amount itself.
//
// The package does not store submitted orders (see package order), decide what the
// model may call (see package tools), or share carts between processes.
package cart
