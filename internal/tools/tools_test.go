package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/order"
	"github.com/voiceorder/voiceorder/internal/tools"
	"github.com/voiceorder/voiceorder/menus"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openTime is Monday 2 June 2025, 10:00 in New York, when the shipped café is open;
// closedTime is 22:00 the same day.
var (
	newYork, _ = time.LoadLocation("America/New_York")
	openTime   = time.Date(2025, 6, 2, 10, 0, 0, 0, newYork)
	closedTime = time.Date(2025, 6, 2, 22, 0, 0, 0, newYork)
)

type fixture struct {
	exec   *tools.Executor
	cat    *menu.Catalog
	carts  *cart.MemoryStore
	orders *order.SQLiteStore
	dbPath string
	now    time.Time
	logs   *bytes.Buffer
}

type fixtureOption func(*fixture, *tools.Env)

func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	cat, err := menu.Parse(menus.DefaultName, menus.Default)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cat: cat, now: openTime, logs: &bytes.Buffer{}}
	f.dbPath = filepath.Join(t.TempDir(), "orders.db")
	f.orders, err = order.OpenSQLite(context.Background(), f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	f.carts = cart.NewMemoryStore(cart.MemoryConfig{})
	t.Cleanup(func() {
		f.carts.Close()
		f.orders.Close()
	})
	env := tools.Env{
		Catalog: cat, Carts: f.carts, Orders: f.orders,
		Now:    func() time.Time { return f.now },
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
	}
	for _, o := range opts {
		o(f, &env)
	}
	f.exec = tools.NewExecutor(env)
	return f
}

func (f *fixture) run(t testing.TB, name, args string) tools.Outcome {
	t.Helper()
	out := f.exec.Run(context.Background(), tools.Call{SessionID: "session-1", CartKey: "cart-1", Name: name, Arguments: args})
	var back map[string]any
	if err := json.Unmarshal([]byte(out.Result.JSON()), &back); err != nil {
		t.Fatalf("%s result JSON is invalid: %v", name, err)
	}
	return out
}

func (f *fixture) mustRun(t testing.TB, name, args string) tools.Outcome {
	t.Helper()
	out := f.run(t, name, args)
	if !out.Result.Success {
		t.Fatalf("%s(%s) failed: %s", name, args, out.Result.Error)
	}
	return out
}

// data decodes a result's data into a generic map for checks.
func data(t testing.TB, r tools.Result) map[string]any {
	t.Helper()
	raw, err := json.Marshal(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("data is not an object: %s", raw)
	}
	return m
}

func TestDefinitions(t *testing.T) {
	defs := tools.Definitions()
	want := []string{"find_menu_items", "get_item_details", "add_to_order", "remove_from_order",
		"get_current_order", "clear_order", "get_store_info", "get_specials", "submit_order"}
	if len(defs) != len(want) {
		t.Fatalf("%d definitions, want %d", len(defs), len(want))
	}
	for i, d := range defs {
		if d.Name != want[i] {
			t.Errorf("definition %d is %s, want %s", i, d.Name, want[i])
		}
		if len(d.Description) < 30 {
			t.Errorf("%s: description %q is too short to guide a model", d.Name, d.Description)
		}
		var schema struct {
			Type                 string                     `json:"type"`
			Properties           map[string]json.RawMessage `json:"properties"`
			Required             []string                   `json:"required"`
			AdditionalProperties *bool                      `json:"additionalProperties"`
		}
		if err := json.Unmarshal(d.Parameters, &schema); err != nil {
			t.Errorf("%s: parameters are not valid JSON: %v", d.Name, err)
			continue
		}
		if schema.Type != "object" || schema.Properties == nil {
			t.Errorf("%s: schema type %q with properties %v, want an object schema", d.Name, schema.Type, schema.Properties)
		}
		if schema.AdditionalProperties == nil || *schema.AdditionalProperties {
			t.Errorf("%s: additionalProperties must be false", d.Name)
		}
		for _, r := range schema.Required {
			if _, ok := schema.Properties[r]; !ok {
				t.Errorf("%s: required %q is not a property", d.Name, r)
			}
		}
		for name, p := range schema.Properties {
			var prop struct {
				Type        string `json:"type"`
				Description string `json:"description"`
			}
			if err := json.Unmarshal(p, &prop); err != nil || prop.Type == "" || prop.Description == "" {
				t.Errorf("%s.%s: property needs a type and a description (%s)", d.Name, name, p)
			}
		}
	}

	add := string(defs[2].Parameters)
	limits := []string{
		fmt.Sprintf(`"maximum": %d`, cart.MaxQuantity),
		fmt.Sprintf(`"maxItems": %d`, cart.MaxSelections),
		fmt.Sprintf(`"maxLength": %d`, cart.MaxNotes),
	}
	for _, part := range append(limits, `"minimum": 1`, `"enum": ["light", "extra"]`, `"required": ["item_id"]`) {
		if !strings.Contains(add, part) {
			t.Errorf("add_to_order schema lacks %s", part)
		}
	}
	if strings.Contains(string(defs[8].Parameters), `"required"`) {
		t.Errorf("submit_order must have no required arguments")
	}

	defs[0].Parameters[0] = 'X'
	if tools.Definitions()[0].Parameters[0] == 'X' {
		t.Errorf("changing a returned definition changed the next call's")
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		tool      string
		args      string
		wantParts []string
	}{
		{"malformed JSON", "add_to_order", `{"item_id": `, []string{"not valid JSON", "add_to_order takes a JSON object with item_id, size, quantity, modifiers, notes"}},
		{"not an object", "add_to_order", `["latte"]`, []string{"must be a JSON object"}},
		{"string instead of object", "find_menu_items", `"mocha"`, []string{"must be a JSON object"}},
		{"trailing data", "get_specials", `{} {}`, []string{"not valid JSON", "get_specials takes no arguments; send {}"}},
		{"unknown tool", "order_pizza", `{}`, []string{`unknown tool "order_pizza"`, "find_menu_items", "submit_order"}},
		{"empty tool name", "", `{}`, []string{"unknown tool"}},
		{"wrong type for item", "add_to_order", `{"item_id": 5}`, []string{"item_id must be a string", "got JSON number"}},
		{"quantity as string", "add_to_order", `{"item_id": "latte", "quantity": "2"}`, []string{"quantity must be a number"}},
		{"modifiers as string", "add_to_order", `{"item_id": "latte", "modifiers": "oat"}`, []string{"modifiers must be an array"}},
		{"modifier option as number", "add_to_order", `{"item_id": "latte", "modifiers": [{"option": 1}]}`, []string{"option must be a string"}},
		{"extra field", "add_to_order", `{"item_id": "latte", "color": "red"}`, []string{`unknown argument "color"`, "item_id, size"}},
		{"extra nested field", "add_to_order", `{"item_id": "latte", "modifiers": [{"option": "oat", "brand": "x"}]}`, []string{"invalid arguments", "brand"}},
		{"arguments to a tool without any", "get_current_order", `{"verbose": true}`, []string{`unknown argument "verbose"`, "get_current_order takes no arguments; send {}"}},
		{"missing item", "add_to_order", `{}`, []string{"item_id: missing"}},
		{"missing item for details", "get_item_details", `{"item_id": " "}`, []string{"item_id: missing"}},
		{"unknown item with matches", "add_to_order", `{"item_id": "iced latte"}`, []string{`unknown item "iced latte"`, "close matches"}},
		{"unknown size", "add_to_order", `{"item_id": "latte", "size": "huge"}`, []string{`size: unknown size "huge"; choose one of short, small, medium, large`}},
		{"unknown modifier", "add_to_order", `{"item_id": "latte", "modifiers": [{"group": "milk", "option": "goat"}]}`, []string{`milk: unknown option "goat"; choose one of milk, skim, whole, soy, almond, oat, cream`}},
		{"bad amount", "add_to_order", `{"item_id": "latte", "modifiers": [{"option": "oat", "amount": "tons"}]}`, []string{`unknown amount "tons"`}},
		{"required choice missing", "add_to_order", `{"item_id": "breakfast sandwich"}`, []string{"bread: missing", "english_muffin, bagel, croissant"}},
		{"remove without target", "remove_from_order", `{}`, []string{"line_id", "item_id"}},
		{"remove zero", "remove_from_order", `{"line_id": "L1", "quantity": 0}`, []string{"quantity: must be a whole number from 1 to 100"}},
		{"remove from empty order", "remove_from_order", `{"line_id": "L1"}`, []string{"the order is empty"}},
		{"submit empty order", "submit_order", `{}`, []string{"the order is empty"}},
		{"customer name as number", "submit_order", `{"customer_name": 7}`, []string{"customer_name must be a string"}},
		{"unknown category", "find_menu_items", `{"category": "pizza"}`, []string{`unknown category "pizza"`, "coffee, espresso, cold, bakery, breakfast"}},
		{"oversized arguments", "find_menu_items", `{"query": "` + strings.Repeat("a", tools.MaxArgumentsSize) + `"}`, []string{"more than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := f.run(t, tt.tool, tt.args)
			if out.Result.Success {
				t.Fatalf("%s(%s) succeeded, want failure", tt.tool, tt.args)
			}
			for _, p := range tt.wantParts {
				if !strings.Contains(out.Result.Error, p) {
					t.Errorf("error = %q, want it to contain %q", out.Result.Error, p)
				}
			}
			if out.Cart != nil || out.Order != nil {
				t.Errorf("failed call reported a cart or an order")
			}
			if !strings.Contains(out.Result.JSON(), `"success":false`) {
				t.Errorf("JSON() = %s, want success false", out.Result.JSON())
			}
		})
	}
	if f.carts.Len() != 0 {
		t.Errorf("failed calls left %d carts", f.carts.Len())
	}
	if f.logs.Len() != 0 {
		t.Errorf("argument errors were logged as failures:\n%s", f.logs)
	}
}

func TestFindMenuItems(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		args       string
		wantFirst  string
		wantCount  int
		wantShown  int
		wantInMsg  string
		wantCatsOn bool
	}{
		{name: "by name", args: `{"query": "mocha"}`, wantFirst: "mocha", wantCount: 2, wantShown: 2},
		{name: "by alias", args: `{"query": "porridge"}`, wantFirst: "oatmeal", wantCount: 1, wantShown: 1},
		{name: "whole menu", args: `{}`, wantFirst: "house_coffee", wantCount: 13, wantShown: 10, wantInMsg: "best 10 of 13"},
		{name: "category", args: `{"category": "Bakery"}`, wantFirst: "croissant", wantCount: 3, wantShown: 3},
		{name: "nothing matches", args: `{"query": "pizza"}`, wantCount: 0, wantShown: 0, wantInMsg: "Nothing on the menu matches", wantCatsOn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := f.mustRun(t, "find_menu_items", tt.args)
			d := data(t, out.Result)
			items := d["items"].([]any)
			if int(d["count"].(float64)) != tt.wantCount || len(items) != tt.wantShown {
				t.Errorf("count %v, shown %d; want %d, %d", d["count"], len(items), tt.wantCount, tt.wantShown)
			}
			if tt.wantFirst != "" && (len(items) == 0 || items[0].(map[string]any)["id"] != tt.wantFirst) {
				t.Errorf("first item = %v, want %s", items, tt.wantFirst)
			}
			if !strings.Contains(out.Result.Message, tt.wantInMsg) {
				t.Errorf("message = %q, want it to contain %q", out.Result.Message, tt.wantInMsg)
			}
			if _, ok := d["categories"]; ok != tt.wantCatsOn {
				t.Errorf("categories present = %v, want %v", ok, tt.wantCatsOn)
			}
			if out.Cart != nil {
				t.Errorf("find_menu_items reported a cart")
			}
		})
	}
	out := f.mustRun(t, "find_menu_items", `{"query": "latte"}`)
	first := data(t, out.Result)["items"].([]any)[0].(map[string]any)
	if first["price_text"] != "$3.85 to $5.25" || first["price"] != 425.0 {
		t.Errorf("latte price = %v / %v, want 425 / $3.85 to $5.25", first["price"], first["price_text"])
	}
}

func TestGetItemDetails(t *testing.T) {
	f := newFixture(t)
	out := f.mustRun(t, "get_item_details", `{"item_id": "Latte"}`)
	d := data(t, out.Result)
	sizes := d["size_options"].([]any)
	wantPrices := []float64{385, 425, 475, 525}
	for i, s := range sizes {
		if p := s.(map[string]any)["price"].(float64); p != wantPrices[i] {
			t.Errorf("size %d price = %v, want %v", i, p, wantPrices[i])
		}
	}
	groups := d["modifier_groups"].([]any)
	if len(groups) != 5 {
		t.Fatalf("latte has %d modifier groups, want 5", len(groups))
	}
	milk := groups[2].(map[string]any)
	if milk["id"] != "milk" || milk["amounts"] != true || milk["required"] != false {
		t.Errorf("milk group = %v", milk)
	}
	if out.Result.Message != "" {
		t.Errorf("message = %q, want none for an item without required choices", out.Result.Message)
	}

	out = f.mustRun(t, "get_item_details", `{"item_id": "egg sandwich"}`)
	if !strings.Contains(out.Result.Message, "choose bread") {
		t.Errorf("message = %q, want it to ask for the bread", out.Result.Message)
	}

	out = f.run(t, "get_item_details", `{"item_id": "cold brew"}`)
	if out.Result.Success || !strings.Contains(out.Result.Error, "close matches") || strings.Count(out.Result.Error, "(") > 3 {
		t.Errorf("unknown item error = %q, want up to three close matches", out.Result.Error)
	}
}

func TestAddToOrder(t *testing.T) {
	f := newFixture(t)
	out := f.mustRun(t, "add_to_order", `{"item_id": "latte", "size": "large", "quantity": 2, "modifiers": [{"option": "oat"}, {"group": "sweetener", "option": "sugar", "amount": "extra"}]}`)
	if out.Cart == nil || len(out.Cart.Lines) != 1 {
		t.Fatalf("Outcome.Cart = %v, want the cart with one line", out.Cart)
	}
	if want := "Added 2 large lattes with oat milk and a lot of sugar. The order total is now $12.96."; out.Result.Message != want {
		t.Errorf("message = %q\nwant      %q", out.Result.Message, want)
	}
	d := data(t, out.Result)
	line := d["line"].(map[string]any)
	if line["line_id"] != "L1" || line["unit_price"] != 595.0 || line["total_text"] != "$11.90" {
		t.Errorf("line = %v", line)
	}
	total := d["order"].(map[string]any)
	// 1190 × 8.875 % = 105.61, rounded to 106 cents.
	if total["subtotal"] != 1190.0 || total["tax"] != 106.0 || total["total"] != 1296.0 || total["total_text"] != "$12.96" {
		t.Errorf("order totals = %v, want 1190 + 106 = 1296", total)
	}

	tests := []struct {
		name      string
		args      string
		wantInMsg []string
		wantQty   int
	}{
		{"fraction floored", `{"item_id": "muffin", "quantity": 2.7}`, []string{"Added 2 blueberry muffins", "2.7 was taken as 2"}, 2},
		{"too many", `{"item_id": "plain_bagel", "quantity": 500}`, []string{"Added 100 plain bagels", "500 was taken as 100"}, 100},
		{"cap on merge", `{"item_id": "plain_bagel", "quantity": 5}`, []string{"Only 0 more could be added", "Line L3 now has 100 plain bagels"}, 100},
		{"merge", `{"item_id": "muffin"}`, []string{"Added a blueberry muffin", "Line L2 now has 3 blueberry muffins"}, 3},
		{"long notes", `{"item_id": "oatmeal", "notes": "` + strings.Repeat("n", 1200) + `"}`, []string{"cut to 1000"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := f.mustRun(t, "add_to_order", tt.args)
			for _, p := range tt.wantInMsg {
				if !strings.Contains(out.Result.Message, p) {
					t.Errorf("message = %q, want it to contain %q", out.Result.Message, p)
				}
			}
			line := data(t, out.Result)["line"].(map[string]any)
			if int(line["quantity"].(float64)) != tt.wantQty {
				t.Errorf("line quantity = %v, want %d", line["quantity"], tt.wantQty)
			}
		})
	}
}

func TestRemoveFromOrder(t *testing.T) {
	f := newFixture(t)
	f.mustRun(t, "add_to_order", `{"item_id": "latte", "quantity": 3}`)
	f.mustRun(t, "add_to_order", `{"item_id": "latte", "size": "large"}`)
	f.mustRun(t, "add_to_order", `{"item_id": "muffin"}`)

	out := f.run(t, "remove_from_order", `{"item_id": "latte"}`)
	if out.Result.Success || !strings.Contains(out.Result.Error, "2 lines of Latte") || !strings.Contains(out.Result.Error, "L1 (3 small lattes)") {
		t.Errorf("ambiguous remove = %q, want it to list both latte lines", out.Result.Error)
	}
	out = f.run(t, "remove_from_order", `{"item_id": "oatmeal"}`)
	if out.Result.Success || !strings.Contains(out.Result.Error, "no Oatmeal") {
		t.Errorf("remove of an absent item = %q", out.Result.Error)
	}
	out = f.run(t, "remove_from_order", `{"line_id": "L9"}`)
	if out.Result.Success || !strings.Contains(out.Result.Error, `unknown line "L9"; the order has lines L1, L2, L3`) {
		t.Errorf("remove of an unknown line = %q", out.Result.Error)
	}

	out = f.mustRun(t, "remove_from_order", `{"line_id": "L1", "quantity": 2}`)
	if !strings.HasPrefix(out.Result.Message, "Removed 2 small lattes.") || out.Cart.Lines[0].Quantity != 1 {
		t.Errorf("partial remove: message %q, quantity left %d", out.Result.Message, out.Cart.Lines[0].Quantity)
	}
	out = f.mustRun(t, "remove_from_order", `{"item_id": "blueberry muffin"}`)
	if !strings.HasPrefix(out.Result.Message, "Removed a blueberry muffin.") || len(out.Cart.Lines) != 2 {
		t.Errorf("remove by item: message %q, %d lines left", out.Result.Message, len(out.Cart.Lines))
	}
	f.mustRun(t, "remove_from_order", `{"line_id": "L1"}`)
	out = f.mustRun(t, "remove_from_order", `{"line_id": "L2"}`)
	if !strings.Contains(out.Result.Message, "The order is now empty.") {
		t.Errorf("last remove message = %q", out.Result.Message)
	}
}

func TestGetCurrentOrderAndClear(t *testing.T) {
	f := newFixture(t)
	out := f.mustRun(t, "get_current_order", `{}`)
	if out.Result.Message != "The order is empty." || out.Cart == nil || len(out.Cart.Lines) != 0 {
		t.Errorf("empty order: message %q, cart %v", out.Result.Message, out.Cart)
	}
	if f.carts.Len() != 0 {
		t.Errorf("reading an absent cart created one")
	}

	f.mustRun(t, "add_to_order", `{"item_id": "latte", "size": "large", "quantity": 2, "modifiers": [{"option": "oat"}]}`)
	f.mustRun(t, "add_to_order", `{"item_id": "plain bagel", "modifiers": [{"option": "cream cheese"}]}`)
	out = f.mustRun(t, "get_current_order", "")
	want := "The order is 2 large lattes with oat milk and a plain bagel with cream cheese. The total is $17.31 including $1.41 tax."
	if out.Result.Message != want {
		t.Errorf("message = %q\nwant      %q", out.Result.Message, want)
	}
	d := data(t, out.Result)
	// 1590 × 8.875 % = 141.11, rounded to 141 cents.
	if d["subtotal"] != 1590.0 || d["tax"] != 141.0 || d["total_text"] != "$17.31" || d["item_count"] != 3.0 {
		t.Errorf("totals = %v", d)
	}
	lines := d["lines"].([]any)
	if lines[1].(map[string]any)["description"] != "a plain bagel with cream cheese" {
		t.Errorf("line description = %v", lines[1])
	}

	out = f.mustRun(t, "clear_order", `{}`)
	if out.Result.Message != "Removed all 3 items. The order is now empty." || len(out.Cart.Lines) != 0 {
		t.Errorf("clear: message %q, %d lines", out.Result.Message, len(out.Cart.Lines))
	}
	out = f.mustRun(t, "clear_order", `null`)
	if out.Result.Message != "The order was already empty." {
		t.Errorf("second clear message = %q", out.Result.Message)
	}
}

func TestGetStoreInfo(t *testing.T) {
	f := newFixture(t)
	out := f.mustRun(t, "get_store_info", `{}`)
	d := data(t, out.Result)
	if d["open_now"] != true || out.Result.Message != "Corner Café is open now." || d["local_time"] != "Monday 10:00" {
		t.Errorf("open store: %v, %q", d, out.Result.Message)
	}
	if want := "Monday to Friday 06:30 to 19:00, Saturday and Sunday 08:00 to 17:00"; d["hours_text"] != want {
		t.Errorf("hours_text = %q, want %q", d["hours_text"], want)
	}

	f.now = closedTime
	out = f.mustRun(t, "get_store_info", `{}`)
	d = data(t, out.Result)
	if d["open_now"] != false || d["next_opening_text"] != "Tuesday 06:30" {
		t.Errorf("closed store: %v", d)
	}
	if !strings.Contains(out.Result.Message, "closed now and opens Tuesday 06:30") {
		t.Errorf("message = %q", out.Result.Message)
	}
}

func TestGetSpecials(t *testing.T) {
	f := newFixture(t)
	out := f.mustRun(t, "get_specials", `{}`)
	specials := data(t, out.Result)["specials"].([]any)
	if len(specials) != 2 {
		t.Fatalf("%d specials, want 2", len(specials))
	}
	first := specials[0].(map[string]any)
	if first["item_id"] != "iced_mocha" || first["price_text"] != "$4.60 to $6.00" {
		t.Errorf("first special = %v", first)
	}
}

func TestSubmitOrder(t *testing.T) {
	f := newFixture(t)
	f.mustRun(t, "add_to_order", `{"item_id": "latte", "quantity": 2}`)
	out := f.mustRun(t, "submit_order", `{"customer_name": "  Ada  "}`)
	if out.Order == nil || out.Order.Number != "101" || out.Order.CustomerName != "Ada" {
		t.Fatalf("Outcome.Order = %+v, want order 101 for Ada", out.Order)
	}
	if want := "Order number 101 is placed. The total is $9.25."; out.Result.Message != want {
		t.Errorf("message = %q, want %q", out.Result.Message, want)
	}
	if out.Cart == nil || len(out.Cart.Lines) != 0 || out.Cart.SubmittedOrderID != out.Order.ID {
		t.Errorf("cart after submit = %+v, want empty with the order id", out.Cart)
	}
	first := *out.Order

	// The order is on disk: a second store opened on the file reads it.
	reopened, err := order.OpenSQLite(context.Background(), f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reopened.Get(context.Background(), first.ID)
	reopened.Close()
	if err != nil {
		t.Fatalf("order not readable after reopening: %v", err)
	}
	if got.Number != "101" || got.Total != 925 || got.SessionID != "session-1" || len(got.Lines) != 1 || !got.CreatedAt.Equal(openTime) {
		t.Errorf("stored order = %+v", got)
	}

	// A repeated submit without new lines returns the same order and stores nothing.
	out = f.mustRun(t, "submit_order", `{}`)
	if out.Order != nil {
		t.Errorf("repeated submit reported a new order")
	}
	if d := data(t, out.Result); d["order_number"] != "101" || d["order_id"] != first.ID {
		t.Errorf("repeated submit data = %v, want order 101", d)
	}
	if !strings.Contains(out.Result.Message, "already placed") {
		t.Errorf("repeated submit message = %q", out.Result.Message)
	}

	// New lines make a new order.
	f.mustRun(t, "add_to_order", `{"item_id": "muffin"}`)
	f.now = closedTime
	out = f.mustRun(t, "submit_order", `{}`)
	if out.Order == nil || out.Order.Number != "102" {
		t.Fatalf("second order = %+v, want number 102", out.Order)
	}
	if !strings.Contains(out.Result.Message, "closed now and opens Tuesday 06:30") {
		t.Errorf("message when closed = %q", out.Result.Message)
	}
	list, err := f.orders.List(context.Background(), "corner-cafe", 10)
	if err != nil || len(list) != 2 {
		t.Errorf("stored orders = %d, %v; want 2", len(list), err)
	}
}

// lostAck stores an order and then reports a failure, as when the caller's connection
// to the database fails after the commit.
type lostAck struct {
	order.Store
	mu    sync.Mutex
	fails int
}

func (s *lostAck) Create(ctx context.Context, o order.Order) (order.Order, bool, error) {
	stored, created, err := s.Store.Create(ctx, o)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.fails > 0 {
		s.fails--
		return order.Order{}, false, errors.New("connection reset after commit")
	}
	return stored, created, err
}

func TestSubmitRetryAfterLostAck(t *testing.T) {
	var store *lostAck
	f := newFixture(t, func(f *fixture, env *tools.Env) {
		store = &lostAck{Store: env.Orders, fails: 1}
		env.Orders = store
	})
	f.mustRun(t, "add_to_order", `{"item_id": "latte"}`)

	out := f.run(t, "submit_order", `{}`)
	if out.Result.Success || out.Order != nil {
		t.Fatalf("submit with a lost acknowledgement succeeded: %+v", out.Result)
	}
	if !strings.Contains(out.Result.Error, "try once more") || strings.Contains(out.Result.Error, "connection reset") {
		t.Errorf("error = %q, want a generic failure without internals", out.Result.Error)
	}
	if !strings.Contains(f.logs.String(), "connection reset after commit") || !strings.Contains(f.logs.String(), "session_id=session-1") {
		t.Errorf("failure not logged with its session:\n%s", f.logs)
	}
	c, _, _ := f.carts.Get(context.Background(), "cart-1")
	if len(c.Lines) != 1 {
		t.Fatalf("cart lost its lines after a failed submit")
	}

	out = f.mustRun(t, "submit_order", `{}`)
	if out.Order == nil || out.Order.Number != "101" {
		t.Errorf("retried submit = %+v, want the first order, 101", out.Order)
	}
	list, _ := f.orders.List(context.Background(), "corner-cafe", 10)
	if len(list) != 1 {
		t.Errorf("%d orders stored after a retried submit, want 1", len(list))
	}
}

func TestSubmitConcurrent(t *testing.T) {
	f := newFixture(t)
	f.mustRun(t, "add_to_order", `{"item_id": "latte"}`)
	const callers = 10
	var wg sync.WaitGroup
	numbers := make(chan string, callers)
	for range callers {
		wg.Go(func() {
			out := f.exec.Run(context.Background(), tools.Call{SessionID: "session-1", CartKey: "cart-1", Name: "submit_order", Arguments: "{}"})
			if out.Result.Success {
				numbers <- data(t, out.Result)["order_number"].(string)
			}
		})
	}
	wg.Wait()
	close(numbers)
	count := 0
	for n := range numbers {
		count++
		if n != "101" {
			t.Errorf("a concurrent submit returned order %s, want 101", n)
		}
	}
	if count != callers {
		t.Errorf("%d of %d concurrent submits succeeded", count, callers)
	}
	list, _ := f.orders.List(context.Background(), "corner-cafe", 10)
	if len(list) != 1 {
		t.Errorf("%d orders stored, want 1", len(list))
	}
}

func TestRunWithoutCartKey(t *testing.T) {
	f := newFixture(t)
	out := f.exec.Run(context.Background(), tools.Call{Name: "get_current_order", Arguments: "{}"})
	if out.Result.Success {
		t.Errorf("a call without cart key or session succeeded")
	}
	out = f.exec.Run(context.Background(), tools.Call{SessionID: "only-session", Name: "add_to_order", Arguments: `{"item_id": "latte"}`})
	if !out.Result.Success || out.Cart.Key != "only-session" {
		t.Errorf("a call with only a session id = %+v, want the session's cart", out.Result)
	}
}

func TestResultJSON(t *testing.T) {
	tests := []struct {
		r    tools.Result
		want string
	}{
		{tools.Result{Success: true, Data: map[string]int{"n": 1}, Message: "ok"}, `{"success":true,"data":{"n":1},"message":"ok"}`},
		{tools.Result{Error: "bad"}, `{"success":false,"error":"bad"}`},
		{tools.Result{Success: true, Data: func() {}}, `{"success":false,"error":"internal error: the result could not be encoded"}`},
	}
	for _, tt := range tests {
		if got := tt.r.JSON(); got != tt.want {
			t.Errorf("JSON() = %s, want %s", got, tt.want)
		}
	}
}

// FuzzRun sends arbitrary argument JSON to every tool. Run must never panic and must
// always return a result that encodes to JSON.
func FuzzRun(f *testing.F) {
	seeds := []string{
		`{}`, ``, `null`, `[]`, `{"item_id": "latte", "quantity": 2.5}`,
		`{"item_id": "latte", "modifiers": [{"option": "a lot of oat milk"}]}`,
		`{"item_id": "breakfast sandwich", "modifiers": [{"group": "bread", "option": "bagel"}, {"option": "egg"}]}`,
		`{"line_id": "L1", "quantity": 1e300}`, `{"query": "\u0000"}`, `{"customer_name": "Ada"}`,
		`{"item_id": {"nested": [1, 2]}}`, `{"quantity": -1e-300}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	fx := newFixture(f)
	names := []string{"find_menu_items", "get_item_details", "add_to_order", "remove_from_order",
		"get_current_order", "clear_order", "get_store_info", "get_specials", "submit_order", "bogus"}
	f.Fuzz(func(t *testing.T, tool uint8, args string) {
		name := names[int(tool)%len(names)]
		out := fx.exec.Run(context.Background(), tools.Call{SessionID: "fuzz", CartKey: fmt.Sprintf("cart-%d", tool%4), Name: name, Arguments: args})
		if !json.Valid([]byte(out.Result.JSON())) {
			t.Fatalf("%s(%q) result is not JSON", name, args)
		}
		if !out.Result.Success && out.Result.Error == "" {
			t.Fatalf("%s(%q) failed without an error message", name, args)
		}
		if strings.Contains(out.Result.Error, "ordering system failed") {
			t.Fatalf("%s(%q) hit an internal failure: %s", name, args, fx.logs)
		}
	})
}

func BenchmarkRunAddToOrder(b *testing.B) {
	f := newFixture(b)
	call := tools.Call{SessionID: "s", Name: "add_to_order", Arguments: `{"item_id": "latte", "size": "large", "modifiers": [{"option": "oat"}, {"option": "sugar", "amount": "extra"}]}`}
	i := 0
	for b.Loop() {
		i++
		call.CartKey = fmt.Sprintf("cart-%d", i%1000)
		if out := f.exec.Run(context.Background(), call); !out.Result.Success {
			b.Fatal(out.Result.Error)
		}
	}
}
