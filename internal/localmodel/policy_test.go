package localmodel

import (
	"encoding/json"
	"strings"
	"testing"
)

// policyStep is one turn of a scripted conversation: what the caller does, and
// what the policy must return.
type policyStep struct {
	hear      *Utterance
	outputs   []string // outputs for the previous reply's calls, in order
	wantCalls []string // tool names, in order
	wantArgs  []string // substrings of each call's arguments
	wantSay   string   // exact speech, when no calls are expected
}

func said(text string) *Utterance { return &Utterance{Text: text, Confidence: -25} }

const (
	addedLatte   = `{"success":true,"data":{"line":{"description":"a large latte with oat milk"},"order":{"item_count":1}},"message":"Added a large latte with oat milk."}`
	addedMuffin  = `{"success":true,"data":{"line":{"description":"a blueberry muffin"}}}`
	orderOfLatte = `{"success":true,"data":{"lines":[{"description":"a large latte with oat milk"}],"item_count":1,"total_text":"$6.27"}}`
	emptyOrder   = `{"success":true,"data":{"lines":[],"item_count":0,"total_text":"$0.00"}}`
	placed       = `{"success":true,"data":{"order_number":"101","total_text":"$6.27"}}`
)

func TestPolicyConversations(t *testing.T) {
	tests := []struct {
		name  string
		steps []policyStep
	}{
		{"order, read back, place", []policyStep{
			{wantSay: "Hi, welcome to Corner Café. What can I get you?"},
			{hear: said("i'd like a large latte with oat milk"), wantCalls: []string{"add_to_order"},
				wantArgs: []string{`"item_id":"latte"`}},
			{outputs: []string{addedLatte}, wantSay: "Added a large latte with oat milk. Anything else?"},
			{hear: said("that's all"), wantCalls: []string{"get_current_order"}},
			{outputs: []string{orderOfLatte}, wantSay: "That's a large latte with oat milk. Your total is $6.27. Shall I place the order?"},
			{hear: said("yes"), wantCalls: []string{"submit_order"}},
			{outputs: []string{placed}, wantSay: "Your order number is 101. Thank you, goodbye!"},
		}},
		{"two items in one utterance", []policyStep{
			{hear: said("a large latte with oat milk and a blueberry muffin"), wantCalls: []string{"add_to_order", "add_to_order"},
				wantArgs: []string{`"size":"large"`, `"item_id":"blueberry_muffin"`}},
			{outputs: []string{addedLatte, addedMuffin}, wantSay: "Added a large latte with oat milk and a blueberry muffin. Anything else?"},
		}},
		{"low confidence asks again", []policyStep{
			{hear: &Utterance{Text: "a latte", Confidence: -70}, wantSay: promptNotCaught},
		}},
		{"typed text skips the confidence check", []policyStep{
			{hear: &Utterance{Text: "a latte", Typed: true}, wantCalls: []string{"add_to_order"}},
		}},
		{"empty hypothesis asks again", []policyStep{
			{hear: said(""), wantSay: promptNotCaught},
		}},
		{"unknown words ask again", []policyStep{
			{hear: said("the weather is nice"), wantSay: promptNotCaught},
		}},
		{"item the tool rejects", []policyStep{
			{hear: said("a croissant with oat milk"), wantCalls: []string{"add_to_order"}},
			{outputs: []string{`{"success":false,"error":"modifiers[0]: butter croissant has no milk choice; its choices are spread"}`},
				wantSay: "Sorry, I couldn't add the butter croissant: butter croissant has no milk choice. What would you like?"},
		}},
		{"item not on the menu", []policyStep{
			{hear: said("a latte"), wantCalls: []string{"add_to_order"}},
			{outputs: []string{`{"success":false,"error":"unknown item \"latte\"; close matches: mocha"}`},
				wantSay: "Sorry, latte is not on the menu. What would you like?"},
		}},
		{"done with an empty cart", []policyStep{
			{hear: said("that's all"), wantCalls: []string{"get_current_order"}},
			{outputs: []string{emptyOrder}, wantSay: "You haven't ordered anything yet. What would you like?"},
		}},
		{"no after read-back", []policyStep{
			{hear: said("that's all"), wantCalls: []string{"get_current_order"}},
			{outputs: []string{orderOfLatte}, wantSay: "That's a large latte with oat milk. Your total is $6.27. Shall I place the order?"},
			{hear: said("no"), wantSay: promptChange},
			{hear: said("yes"), wantSay: promptWhat},
		}},
		{"no to anything else finishes", []policyStep{
			{hear: said("a latte"), wantCalls: []string{"add_to_order"}},
			{outputs: []string{addedLatte}, wantSay: "Added a large latte with oat milk. Anything else?"},
			{hear: said("no"), wantCalls: []string{"get_current_order"}},
		}},
		{"yes without a read-back", []policyStep{
			{hear: said("yes"), wantSay: promptWhat},
		}},
		{"remove", []policyStep{
			{hear: said("remove the latte"), wantCalls: []string{"remove_from_order"}, wantArgs: []string{`{"item_id":"latte"}`}},
			{outputs: []string{`{"success":true,"data":{"item_count":0},"message":"Removed a large latte. The order is now empty."}`},
				wantSay: "Removed a large latte. The order is now empty. Anything else?"},
		}},
		{"clear", []policyStep{
			{hear: said("start over"), wantCalls: []string{"clear_order"}},
			{outputs: []string{`{"success":true,"message":"Removed all 2 items."}`}, wantSay: "I've cleared your order. What would you like?"},
		}},
		{"store info", []policyStep{
			{hear: said("what are your hours"), wantCalls: []string{"get_store_info"}},
			{outputs: []string{`{"success":true,"data":{"hours_text":"Monday to Friday 06:30 to 19:00"},"message":"Corner Café is open now."}`},
				wantSay: "Corner Café is open now. Our hours are Monday to Friday 06:30 to 19:00. What would you like?"},
		}},
		{"specials", []policyStep{
			{hear: said("what are the specials"), wantCalls: []string{"get_specials"}},
			{outputs: []string{`{"success":true,"data":{"specials":[{"name":"Iced mocha","description":"Iced mocha with a free syrup."}]}}`},
				wantSay: "Our specials: Iced mocha with a free syrup. What would you like?"},
		}},
		{"menu", []policyStep{
			{hear: said("what do you have"), wantCalls: []string{"find_menu_items"}},
			{outputs: []string{`{"success":true,"data":{"items":[{"name":"Latte"},{"name":"Mocha"}],"count":2}}`},
				wantSay: "We have latte and mocha. What would you like?"},
		}},
		{"malformed output", []policyStep{
			{hear: said("a latte"), wantCalls: []string{"add_to_order"}},
			{outputs: []string{`not json`}, wantSay: "Sorry, I couldn't add the latte: something went wrong. What would you like?"},
		}},
		{"missing output", []policyStep{
			{hear: said("what are the specials"), wantCalls: []string{"get_specials"}},
			{wantSay: promptFailed + " What would you like?"},
		}},
		{"after the order is placed", []policyStep{
			{hear: said("that's all"), wantCalls: []string{"get_current_order"}},
			{outputs: []string{orderOfLatte}, wantSay: "That's a large latte with oat milk. Your total is $6.27. Shall I place the order?"},
			{hear: said("yes"), wantCalls: []string{"submit_order"}},
			{outputs: []string{placed}, wantSay: "Your order number is 101. Thank you, goodbye!"},
			{hear: said("yes"), wantSay: promptGoodbye},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPolicy(PolicyConfig{Catalog: testCatalog(t), ConfidenceThreshold: DefaultScoreThreshold, CallIDPrefix: "t_"})
			p.SetTools(RequiredTools)
			var last Reply
			for i, step := range tt.steps {
				for j, out := range step.outputs {
					if j >= len(last.Calls) {
						t.Fatalf("step %d: output %d for a reply with %d calls", i, j, len(last.Calls))
					}
					if !p.ToolOutput(last.Calls[j].CallID, out) {
						t.Fatalf("step %d: ToolOutput(%s) = false, want the call recognized", i, last.Calls[j].CallID)
					}
				}
				if step.hear != nil {
					p.Hear(*step.hear)
				}
				last = p.Respond()
				checkReply(t, i, last, step)
			}
		})
	}
}

func checkReply(t *testing.T, i int, got Reply, want policyStep) {
	t.Helper()
	names := make([]string, len(got.Calls))
	for j, c := range got.Calls {
		names[j] = c.Name
		if !json.Valid([]byte(c.Arguments)) {
			t.Errorf("step %d: call %s arguments %q are not JSON", i, c.Name, c.Arguments)
		}
		if j < len(want.wantArgs) && !strings.Contains(c.Arguments, want.wantArgs[j]) {
			t.Errorf("step %d: call %s arguments %s, want them to contain %s", i, c.Name, c.Arguments, want.wantArgs[j])
		}
	}
	if strings.Join(names, ",") != strings.Join(want.wantCalls, ",") {
		t.Fatalf("step %d: calls %v, want %v (speech %q)", i, names, want.wantCalls, got.Speech)
	}
	if len(want.wantCalls) == 0 && got.Speech != want.wantSay {
		t.Errorf("step %d: said %q, want %q", i, got.Speech, want.wantSay)
	}
}

func TestPolicyWithoutTools(t *testing.T) {
	p := NewPolicy(PolicyConfig{Catalog: testCatalog(t), ConfidenceThreshold: DefaultScoreThreshold})
	p.Hear(*said("a latte"))
	if got := p.Respond(); len(got.Calls) != 0 || got.Speech != promptUnavailable {
		t.Errorf("Respond() = %+v, want an apology without calls", got)
	}
}

func TestPolicyIgnoresUnknownCall(t *testing.T) {
	p := NewPolicy(PolicyConfig{Catalog: testCatalog(t)})
	if p.ToolOutput("call_x", "{}") {
		t.Error("ToolOutput for an unknown call = true, want false")
	}
}

func TestMissingTools(t *testing.T) {
	if got := MissingTools(RequiredTools); len(got) != 0 {
		t.Errorf("MissingTools(RequiredTools) = %v, want none", got)
	}
	if got := MissingTools([]string{"add_to_order"}); len(got) != len(RequiredTools)-1 {
		t.Errorf("MissingTools = %v, want all but add_to_order", got)
	}
}

func TestPlainError(t *testing.T) {
	tests := []struct{ in, want string }{
		{`size: unknown size "huge"; the sizes are small, large`, `unknown size "huge"`},
		{"The order is empty; add items first.", "the order is empty"},
		{"", "something went wrong"},
		{"quantity: must be a whole number", "must be a whole number"},
	}
	for _, tt := range tests {
		if got := plainError(tt.in); got != tt.want {
			t.Errorf("plainError(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
