package voicecall

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/order"
)

func TestPrintSummary(t *testing.T) {
	tests := []struct {
		name   string
		result Result
		want   string
	}{
		{
			name:   "nothing ordered",
			result: Result{},
			want:   "cart: empty\norder: none\n",
		},
		{
			name:   "order placed",
			result: Result{Cart: mustJSON(cart.Cart{SubmittedOrderID: "9b2f6c1e-4a8d-4f0e-9c57-3d1e2a6b7c80"}), Order: testOrder},
			want: "cart (submitted as the order):\n" +
				"  1 × Latte, Large, Oat milk  $5.75\n" +
				"  subtotal $5.75\n  tax      $0.52\n  total    $6.27\n" +
				"order: #101 (id 9b2f6c1e-4a8d-4f0e-9c57-3d1e2a6b7c80)\n",
		},
		{
			name:   "cart without order",
			result: Result{Cart: testCart},
			want: "cart:\n" +
				"  1 × Latte, Large, Oat milk  $5.75\n" +
				"  subtotal $5.75\n  tax      $0.52\n  total    $6.27\n" +
				"order: none\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := PrintSummary(&b, &tt.result); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("summary =\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestPrintSummaryInvalidJSON(t *testing.T) {
	tests := []struct {
		name   string
		result Result
		want   string
	}{
		{"cart", Result{Cart: json.RawMessage(`[1]`)}, "decode cart"},
		{"order", Result{Order: json.RawMessage(`"101"`)}, "decode order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := PrintSummary(&strings.Builder{}, &tt.result)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestPrintOrder(t *testing.T) {
	var o order.Order
	if err := json.Unmarshal(testOrder, &o); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := PrintOrder(&b, &o); err != nil {
		t.Fatal(err)
	}
	want := "order #101 (id 9b2f6c1e-4a8d-4f0e-9c57-3d1e2a6b7c80, status placed)\n" +
		"  1 × Latte, Large, Oat milk  $5.75\n" +
		"  subtotal $5.75\n  tax      $0.52\n  total    $6.27\n" +
		"  created  2025-05-01T12:00:09Z\n"
	if b.String() != want {
		t.Errorf("order =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestDescribeLine(t *testing.T) {
	tests := []struct {
		name string
		line cart.Line
		want string
	}{
		{"plain", cart.Line{Name: "Bagel"}, "Bagel"},
		{"size and modifiers", testLine, "Latte, Large, Oat milk"},
		{
			name: "amount and notes",
			line: cart.Line{Name: "Tea", Modifiers: []cart.Modifier{{Name: "Honey", Amount: "extra"}}, Notes: "very hot"},
			want: "Tea, extra Honey (very hot)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DescribeLine(tt.line); got != tt.want {
				t.Errorf("DescribeLine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatToolCall(t *testing.T) {
	tests := []struct {
		name string
		call ToolCall
		want string
	}{
		{"ok", addTool, `tool: add_to_order {"item_id":"latte","size":"large"} -> ok`},
		{"error string", badTool, `tool: add_to_order {"item_id":"tea"} -> error: unknown item tea`},
		{
			name: "error object",
			call: ToolCall{Name: "submit_order", Result: json.RawMessage(`{"success":false,"error":{"code":"empty_cart","message":"the cart is empty"}}`)},
			want: `tool: submit_order {} -> error: the cart is empty (empty_cart)`,
		},
		{
			name: "message only",
			call: ToolCall{Name: "clear_order", Arguments: json.RawMessage(`{ }`), Result: json.RawMessage(`{"success":false,"message":"nothing to clear"}`)},
			want: `tool: clear_order {} -> error: nothing to clear`,
		},
		{
			name: "result not JSON",
			call: ToolCall{Name: "get_specials", Result: json.RawMessage(`oops`)},
			want: `tool: get_specials {} -> error: failed`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatToolCall(tt.call); got != tt.want {
				t.Errorf("formatToolCall = %q, want %q", got, tt.want)
			}
		})
	}
}
