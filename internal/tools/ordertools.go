package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/order"
)

func (e *Executor) findItem(query string) (*menu.Item, error) {
	return cart.FindItem(e.env.Catalog, query)
}

func (e *Executor) currency() string { return e.env.Catalog.Restaurant.Currency }

func (e *Executor) restaurantID() string { return e.env.Catalog.Restaurant.ID }

type addArguments struct {
	ItemID    string   `json:"item_id"`
	Size      string   `json:"size"`
	Quantity  *float64 `json:"quantity"`
	Modifiers []struct {
		Group  string `json:"group"`
		Option string `json:"option"`
		Amount string `json:"amount"`
	} `json:"modifiers"`
	Notes string `json:"notes"`
}

type addResult struct {
	Line  lineView `json:"line"`
	Order cartView `json:"order"`
}

func (e *Executor) addToOrder(ctx context.Context, call Call) Outcome {
	var args addArguments
	if err := decodeArguments(call.Name, call.Arguments, &args); err != nil {
		return e.fail(call, err)
	}
	req := cart.AddRequest{ItemID: args.ItemID, SizeID: args.Size, Quantity: 1, Notes: args.Notes}
	if args.Quantity != nil {
		req.Quantity = *args.Quantity
	}
	for _, m := range args.Modifiers {
		req.Modifiers = append(req.Modifiers, cart.Selection{GroupID: m.Group, OptionID: m.Option, Amount: menu.Amount(m.Amount)})
	}
	requested, err := cart.ClampQuantity(req.Quantity)
	if err != nil {
		return e.fail(call, err)
	}

	var line cart.Line
	var before int
	c, err := e.env.Carts.Update(ctx, call.CartKey, e.restaurantID(), func(c *cart.Cart) error {
		before = c.Quantity()
		var err error
		line, err = c.Add(e.env.Catalog, req)
		return err
	})
	if err != nil {
		return e.fail(call, err)
	}

	added := c.Quantity() - before
	var msgs []string
	if added > 0 {
		msgs = append(msgs, fmt.Sprintf("Added %s.", cart.Describe(withQuantity(line, added))))
	}
	if req.Quantity != float64(requested) {
		msgs = append(msgs, fmt.Sprintf("The quantity %v was taken as %d, because quantities are whole numbers from 1 to %d.", req.Quantity, requested, cart.MaxQuantity))
	}
	if added < requested {
		msgs = append(msgs, fmt.Sprintf("Only %d more could be added, because one line holds at most %d.", added, cart.MaxQuantity))
	}
	if utf8.RuneCountInString(strings.TrimSpace(req.Notes)) > cart.MaxNotes {
		msgs = append(msgs, fmt.Sprintf("The notes were cut to %d characters.", cart.MaxNotes))
	}
	if line.Quantity > added {
		msgs = append(msgs, fmt.Sprintf("Line %s now has %s.", line.ID, cart.Describe(line)))
	}
	msgs = append(msgs, fmt.Sprintf("The order total is now %s.", menu.FormatPrice(c.Total, e.currency())))
	return Outcome{
		Result: Result{Success: true, Data: addResult{Line: newLineView(line, e.currency()), Order: newCartView(&c, e.currency())}, Message: strings.Join(msgs, " ")},
		Cart:   &c,
	}
}

// withQuantity returns l as if it had quantity units, for describing what was added.
func withQuantity(l cart.Line, quantity int) cart.Line {
	l.Quantity = quantity
	l.Total = l.UnitPrice * int64(quantity)
	return l
}

func (e *Executor) removeFromOrder(ctx context.Context, call Call) Outcome {
	var args struct {
		LineID   string   `json:"line_id"`
		ItemID   string   `json:"item_id"`
		Quantity *float64 `json:"quantity"`
	}
	if err := decodeArguments(call.Name, call.Arguments, &args); err != nil {
		return e.fail(call, err)
	}
	lineID := strings.TrimSpace(args.LineID)
	itemQuery := strings.TrimSpace(args.ItemID)
	if lineID == "" && itemQuery == "" {
		return failure("send line_id (from get_current_order) or item_id to say what to remove")
	}
	quantity := 0
	if args.Quantity != nil {
		q := *args.Quantity
		if q < 1 {
			return failure(fmt.Sprintf("quantity: must be a whole number from 1 to %d; omit it to remove the whole line (got %v)", cart.MaxQuantity, q))
		}
		quantity = int(math.Min(math.Floor(q), cart.MaxQuantity))
	}
	var item *menu.Item
	if lineID == "" {
		it, err := e.findItem(itemQuery)
		if err != nil {
			return e.fail(call, err)
		}
		item = it
	}

	var removed cart.Line
	c, err := e.env.Carts.Update(ctx, call.CartKey, e.restaurantID(), func(c *cart.Cart) error {
		if len(c.Lines) == 0 {
			return &cart.ValidationError{Message: "the order is empty; there is nothing to remove"}
		}
		id := lineID
		if id == "" {
			var err error
			if id, err = lineOfItem(c, item); err != nil {
				return err
			}
		}
		var err error
		removed, err = c.Remove(id, quantity)
		return err
	})
	if err != nil {
		return e.fail(call, err)
	}
	msg := fmt.Sprintf("Removed %s. %s", cart.Describe(removed), totalSentence(&c, e.currency()))
	return Outcome{Result: Result{Success: true, Data: newCartView(&c, e.currency()), Message: msg}, Cart: &c}
}

// lineOfItem returns the id of the only line of item in the cart.
func lineOfItem(c *cart.Cart, item *menu.Item) (string, error) {
	var matches, all []string
	var id string
	for _, l := range c.Lines {
		described := fmt.Sprintf("%s (%s)", l.ID, cart.Describe(l))
		all = append(all, described)
		if l.ItemID == item.ID {
			id = l.ID
			matches = append(matches, described)
		}
	}
	switch len(matches) {
	case 0:
		return "", &cart.ValidationError{Field: "item_id", Message: fmt.Sprintf("the order has no %s; its lines are %s", item.Name, strings.Join(all, ", "))}
	case 1:
		return id, nil
	}
	return "", &cart.ValidationError{Field: "item_id", Message: fmt.Sprintf("the order has %d lines of %s: %s; ask the guest which one and send its line_id", len(matches), item.Name, strings.Join(matches, ", "))}
}

func totalSentence(c *cart.Cart, currency string) string {
	if len(c.Lines) == 0 {
		return "The order is now empty."
	}
	return fmt.Sprintf("The order total is now %s.", menu.FormatPrice(c.Total, currency))
}

func (e *Executor) getCurrentOrder(ctx context.Context, call Call) Outcome {
	var args struct{}
	if err := decodeArguments(call.Name, call.Arguments, &args); err != nil {
		return e.fail(call, err)
	}
	c, ok, err := e.env.Carts.Get(ctx, call.CartKey)
	if err != nil {
		return e.fail(call, err)
	}
	if !ok {
		c = cart.Cart{Key: call.CartKey, RestaurantID: e.restaurantID(), Currency: e.currency()}
	}
	return Outcome{Result: Result{Success: true, Data: newCartView(&c, e.currency()), Message: orderSummary(&c, e.currency())}, Cart: &c}
}

func (e *Executor) clearOrder(ctx context.Context, call Call) Outcome {
	var args struct{}
	if err := decodeArguments(call.Name, call.Arguments, &args); err != nil {
		return e.fail(call, err)
	}
	c, ok, err := e.env.Carts.Get(ctx, call.CartKey)
	if err != nil {
		return e.fail(call, err)
	}
	if !ok || len(c.Lines) == 0 {
		if !ok {
			c = cart.Cart{Key: call.CartKey, RestaurantID: e.restaurantID(), Currency: e.currency()}
		}
		return Outcome{Result: Result{Success: true, Data: newCartView(&c, e.currency()), Message: "The order was already empty."}, Cart: &c}
	}
	removed := 0
	c, err = e.env.Carts.Update(ctx, call.CartKey, e.restaurantID(), func(c *cart.Cart) error {
		removed = c.Quantity()
		c.Clear()
		return nil
	})
	if err != nil {
		return e.fail(call, err)
	}
	msg := fmt.Sprintf("Removed all %d items. The order is now empty.", removed)
	return Outcome{Result: Result{Success: true, Data: newCartView(&c, e.currency()), Message: msg}, Cart: &c}
}

type submitResult struct {
	OrderID     string     `json:"order_id"`
	OrderNumber string     `json:"order_number"`
	Status      string     `json:"status"`
	Lines       []lineView `json:"lines"`
	ItemCount   int        `json:"item_count"`
	Total       int64      `json:"total"`
	TotalText   string     `json:"total_text"`
}

var errEmptyOrder = &cart.ValidationError{Message: "the order is empty; add items with add_to_order before submitting"}

func (e *Executor) submitOrder(ctx context.Context, call Call) Outcome {
	var args struct {
		CustomerName string `json:"customer_name"`
	}
	if err := decodeArguments(call.Name, call.Arguments, &args); err != nil {
		return e.fail(call, err)
	}
	name := cleanName(args.CustomerName)

	var placed order.Order
	var repeated bool
	var previousID string
	c, err := e.env.Carts.Update(ctx, call.CartKey, e.restaurantID(), func(c *cart.Cart) error {
		if len(c.Lines) == 0 {
			if c.SubmittedOrderID != "" {
				previousID = c.SubmittedOrderID
				return nil
			}
			return errEmptyOrder
		}
		o := order.Order{
			RestaurantID:   c.RestaurantID,
			SessionID:      call.SessionID,
			IdempotencyKey: idempotencyKey(c),
			CustomerName:   name,
			Lines:          c.Clone().Lines,
			Subtotal:       c.Subtotal,
			Tax:            c.Tax,
			Total:          c.Total,
			Currency:       c.Currency,
			Status:         order.StatusPlaced,
			CreatedAt:      e.env.Now(),
		}
		// The order is durable before the cart drops its lines. A failure here leaves
		// the cart as it was, and a retry finds the same order by its key.
		stored, _, err := e.env.Orders.Create(ctx, o)
		if err != nil {
			return fmt.Errorf("store order: %w", err)
		}
		placed = stored
		c.MarkSubmitted(stored.ID)
		return nil
	})
	if err != nil {
		return e.fail(call, err)
	}

	if previousID != "" {
		prev, err := e.env.Orders.Get(ctx, previousID)
		if err != nil {
			return e.fail(call, fmt.Errorf("read submitted order: %w", err))
		}
		placed, repeated = prev, true
	}

	res := submitResult{
		OrderID: placed.ID, OrderNumber: placed.Number, Status: string(placed.Status),
		Lines: make([]lineView, len(placed.Lines)), Total: placed.Total,
		TotalText: menu.FormatPrice(placed.Total, placed.Currency),
	}
	for i, l := range placed.Lines {
		res.Lines[i] = newLineView(l, placed.Currency)
		res.ItemCount += l.Quantity
	}
	msg := fmt.Sprintf("Order number %s is placed. The total is %s.", placed.Number, res.TotalText)
	if repeated {
		msg = fmt.Sprintf("Order number %s was already placed and nothing was added since. The total was %s.", placed.Number, res.TotalText)
	}
	if now := e.env.Now(); !e.env.Catalog.IsOpen(now) {
		if next, ok := e.env.Catalog.NextOpening(now); ok {
			msg += fmt.Sprintf(" The store is closed now and opens %s.", next.Format("Monday 15:04"))
		}
	}
	out := Outcome{Result: Result{Success: true, Data: res, Message: msg}, Cart: &c}
	if !repeated {
		out.Order = &placed
	}
	return out
}

// idempotencyKey names one submission of a cart: the same cart at the same version
// always gives the same key, so a retried submit finds the order it already stored.
// The cart's instance keeps a cart created again under the same key from colliding.
func idempotencyKey(c *cart.Cart) string {
	sum := sha256.Sum256([]byte(c.Key + "\x00" + c.Instance))
	return fmt.Sprintf("cart:%s:v%d", hex.EncodeToString(sum[:16]), c.Version)
}

// cleanName trims a customer name and cuts it to order.MaxCustomerName characters.
func cleanName(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
	runes := []rune(s)
	if len(runes) > order.MaxCustomerName {
		s = strings.TrimSpace(string(runes[:order.MaxCustomerName]))
	}
	return s
}
