package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/order"
)

// MaxArgumentsSize bounds the raw JSON arguments of one call in bytes.
const MaxArgumentsSize = 64 << 10

// Env holds the dependencies of an Executor. Catalog, Carts and Orders are required.
type Env struct {
	Catalog *menu.Catalog
	Carts   cart.Store
	Orders  order.Store
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives store failures, which the model only hears about as a
	// generic error. Default: discard.
	Logger *slog.Logger
}

// Executor runs tool calls. It is safe for concurrent use; calls for one cart are
// serialized by the cart store.
type Executor struct {
	env Env
}

// NewExecutor returns an Executor for env.
func NewExecutor(env Env) *Executor {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	return &Executor{env: env}
}

// Call is one function call from the model.
type Call struct {
	SessionID string
	// CartKey names the conversation's cart. Empty means SessionID.
	CartKey string
	Name    string
	// Arguments is the raw JSON the model sent.
	Arguments string
}

// Result is the envelope every tool returns to the model.
type Result struct {
	Success bool   `json:"success"`
	Data    any    `json:"data,omitempty"`
	Error   string `json:"error,omitempty"`
	// Message is a sentence the assistant can speak or build on.
	Message string `json:"message,omitempty"`
}

// JSON returns the result encoded for a function_call_output item.
func (r Result) JSON() string {
	data, err := json.Marshal(r)
	if err != nil {
		return `{"success":false,"error":"internal error: the result could not be encoded"}`
	}
	return string(data)
}

// Outcome is the product of one call: the result for the model and the state it read or changed.
type Outcome struct {
	Result Result
	// Cart is set when the call read or changed the cart.
	Cart *cart.Cart
	// Order is set when submit_order turned the cart's lines into an order, stored
	// by this call or by an earlier attempt that failed before it could reply.
	Order *order.Order
}

// Run executes one call. It does not panic on malformed arguments, unknown tools or
// wrong types. Those become a failed Result that explains what to send instead.
func (e *Executor) Run(ctx context.Context, call Call) Outcome {
	if call.CartKey == "" {
		call.CartKey = call.SessionID
	}
	if call.CartKey == "" {
		return e.internal(call, errors.New("call has neither a cart key nor a session id"))
	}
	if len(call.Arguments) > MaxArgumentsSize {
		return failure(fmt.Sprintf("arguments are %d bytes, more than %d; send only the documented fields", len(call.Arguments), MaxArgumentsSize))
	}
	switch call.Name {
	case FindMenuItems:
		return e.findMenuItems(call)
	case GetItemDetails:
		return e.getItemDetails(call)
	case AddToOrder:
		return e.addToOrder(ctx, call)
	case RemoveFromOrder:
		return e.removeFromOrder(ctx, call)
	case GetCurrentOrder:
		return e.getCurrentOrder(ctx, call)
	case ClearOrder:
		return e.clearOrder(ctx, call)
	case GetStoreInfo:
		return e.getStoreInfo(call)
	case GetSpecials:
		return e.getSpecials(call)
	case SubmitOrder:
		return e.submitOrder(ctx, call)
	}
	names := make([]string, len(definitions))
	for i, d := range definitions {
		names[i] = d.Name
	}
	return failure(fmt.Sprintf("unknown tool %q; the tools are %s", call.Name, strings.Join(names, ", ")))
}

func failure(message string) Outcome {
	return Outcome{Result: Result{Success: false, Error: message}}
}

// fail turns an error into a failed outcome. A cart.ValidationError or an argument
// error goes to the model as it is. Any other error is logged, and the model hears
// only that the system failed.
func (e *Executor) fail(call Call, err error) Outcome {
	var verr *cart.ValidationError
	var aerr *argumentError
	switch {
	case errors.As(err, &verr):
		return failure(verr.Error())
	case errors.As(err, &aerr):
		return failure(aerr.Error())
	}
	return e.internal(call, err)
}

func (e *Executor) internal(call Call, err error) Outcome {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The conversation is ending, so no one will hear this result.
		return failure("the request was canceled")
	}
	e.env.Logger.Error("tool call failed", "tool", call.Name, "session_id", call.SessionID, "err", err)
	return failure("the ordering system failed to handle this request; apologize and try once more")
}

// argumentError is invalid arguments from the model.
type argumentError struct {
	message string
}

func (e *argumentError) Error() string { return e.message }

func badArguments(format string, args ...any) error {
	return &argumentError{message: fmt.Sprintf(format, args...)}
}

// decodeArguments decodes raw into dst, a pointer to a struct whose json tags are the
// tool's arguments. It rejects anything but one JSON object (json.Unmarshal also
// rejects data after it) with known fields of the right types, with an error naming
// the tool's arguments.
func decodeArguments(tool, raw string, dst any) error {
	fields := argumentNames[tool]
	usage := fmt.Sprintf("%s takes no arguments; send {}", tool)
	if len(fields) > 0 {
		usage = fmt.Sprintf("%s takes a JSON object with %s", tool, strings.Join(fields, ", "))
	}
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		raw = "{}"
	}

	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return badArguments("arguments are not valid JSON (at byte %d: %v); %s", syntax.Offset, err, usage)
		}
		return badArguments("arguments must be a JSON object; %s", usage)
	}
	for name := range top {
		if !slices.Contains(fields, name) {
			return badArguments("unknown argument %q; %s", name, usage)
		}
	}

	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return badArguments("%s must be %s (got JSON %s); %s", typeErr.Field, describeType(typeErr.Type.Kind().String()), typeErr.Value, usage)
		}
		return badArguments("invalid arguments: %v; %s", err, usage)
	}
	return nil
}

func describeType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "float64", "int", "int64":
		return "a number"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a " + kind
}

// argumentNames maps each tool to its argument names in schema order, so messages
// name the arguments as the schema does.
var argumentNames = func() map[string][]string {
	names := make(map[string][]string, len(definitions))
	for _, d := range definitions {
		var schema struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(d.Parameters, &schema); err != nil {
			panic(fmt.Sprintf("tool %s: invalid parameters schema: %v", d.Name, err))
		}
		list := make([]string, 0, len(schema.Properties))
		for name := range schema.Properties {
			list = append(list, name)
		}
		position := func(name string) int { return bytes.Index(d.Parameters, []byte(`"`+name+`"`)) }
		slices.SortFunc(list, func(a, b string) int { return position(a) - position(b) })
		names[d.Name] = list
	}
	return names
}()
