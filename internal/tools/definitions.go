package tools

import "encoding/json"

// Tool names, as the model calls them.
const (
	FindMenuItems   = "find_menu_items"
	GetItemDetails  = "get_item_details"
	AddToOrder      = "add_to_order"
	RemoveFromOrder = "remove_from_order"
	GetCurrentOrder = "get_current_order"
	ClearOrder      = "clear_order"
	GetStoreInfo    = "get_store_info"
	GetSpecials     = "get_specials"
	SubmitOrder     = "submit_order"
)

// Definition describes one tool to a model: its name, its purpose and a JSON Schema of
// its arguments.
type Definition struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// Definitions returns the nine tools in the order a model should read them. The
// caller may change the returned slice.
func Definitions() []Definition {
	defs := make([]Definition, len(definitions))
	for i, d := range definitions {
		defs[i] = Definition{Name: d.Name, Description: d.Description, Parameters: append(json.RawMessage(nil), d.Parameters...)}
	}
	return defs
}

const noArguments = `{"type": "object", "properties": {}, "additionalProperties": false}`

var definitions = []Definition{
	{
		Name: FindMenuItems,
		Description: "Search the menu with the guest's words: an item name, a kind of food or drink " +
			"(\"bakery\", \"cold drinks\"), or an ingredient. Returns matching items with their id, " +
			"price and sizes, best match first. Send an empty query to list the whole menu. Use the " +
			"returned id as item_id in the other tools.",
		Parameters: json.RawMessage(`{
  "type": "object",
  "properties": {
    "query": {"type": "string", "maxLength": 200, "description": "Words to search for, such as \"iced mocha\" or \"muffin\". Empty lists every item."},
    "category": {"type": "string", "maxLength": 100, "description": "Optional category id or name to list, such as \"bakery\"."}
  },
  "additionalProperties": false
}`),
	},
	{
		Name: GetItemDetails,
		Description: "Get one item's description, sizes with prices, and modifier groups (milk, " +
			"sweetener, bread, ...) with their options, prices and how many the guest may or must " +
			"choose. Call it before add_to_order when the guest wants changes or the item has a " +
			"required choice.",
		Parameters: json.RawMessage(`{
  "type": "object",
  "properties": {
    "item_id": {"type": "string", "maxLength": 200, "description": "Item id from find_menu_items, or the item's name."}
  },
  "required": ["item_id"],
  "additionalProperties": false
}`),
	},
	{
		Name: AddToOrder,
		Description: "Add an item to the guest's order. Prices come from the menu, so quote only " +
			"prices returned by a tool. An item identical to one already in the order increases " +
			"that line's quantity. On success it returns the line, its spoken description and the " +
			"new total. On failure the error says what to ask the guest, such as which size, or " +
			"lists the allowed choices.",
		Parameters: json.RawMessage(`{
  "type": "object",
  "properties": {
    "item_id": {"type": "string", "maxLength": 200, "description": "Item id from find_menu_items, or the item's name."},
    "size": {"type": "string", "maxLength": 100, "description": "Size id or name, such as \"large\" or \"twelve ounce\". Omit it to use the item's default size; items without sizes take none."},
    "quantity": {"type": "integer", "minimum": 1, "maximum": 100, "description": "How many. Default 1."},
    "modifiers": {
      "type": "array",
      "maxItems": 20,
      "description": "Options the guest chose, such as a milk, a sweetener or extra shots.",
      "items": {
        "type": "object",
        "properties": {
          "group": {"type": "string", "maxLength": 100, "description": "Optional modifier group id, such as \"milk\"."},
          "option": {"type": "string", "maxLength": 100, "description": "Option id or name, such as \"oat\" or \"skim milk\"."},
          "amount": {"type": "string", "enum": ["light", "extra"], "description": "Only when the guest asks for a little (light) or a lot (extra) and the group allows amounts. Omit for a regular amount."}
        },
        "required": ["option"],
        "additionalProperties": false
      }
    },
    "notes": {"type": "string", "maxLength": 1000, "description": "Special instructions the menu has no option for, such as \"extra hot\"."}
  },
  "required": ["item_id"],
  "additionalProperties": false
}`),
	},
	{
		Name: RemoveFromOrder,
		Description: "Remove an item from the order. Name the line by line_id from " +
			"get_current_order, or by item_id when the order has only one line of that item. " +
			"Send quantity to remove only that many; omit it to remove the whole line.",
		Parameters: json.RawMessage(`{
  "type": "object",
  "properties": {
    "line_id": {"type": "string", "maxLength": 20, "description": "Line id such as \"L2\" from get_current_order or add_to_order."},
    "item_id": {"type": "string", "maxLength": 200, "description": "Item id or name, used when line_id is not given."},
    "quantity": {"type": "integer", "minimum": 1, "maximum": 100, "description": "How many to remove. Omit to remove the whole line."}
  },
  "additionalProperties": false
}`),
	},
	{
		Name: GetCurrentOrder,
		Description: "Read the current order: each line with its id, a spoken description and " +
			"its price, and the subtotal, tax and total. Use it to read the order back to the " +
			"guest before submitting.",
		Parameters: json.RawMessage(noArguments),
	},
	{
		Name:        ClearOrder,
		Description: "Remove every item from the order. Use it only when the guest asks to start over.",
		Parameters:  json.RawMessage(noArguments),
	},
	{
		Name: GetStoreInfo,
		Description: "Get the store's name, address, phone number, opening hours and whether it " +
			"is open now. Orders can be placed while the store is closed.",
		Parameters: json.RawMessage(noArguments),
	},
	{
		Name:        GetSpecials,
		Description: "Get the current specials with their prices.",
		Parameters:  json.RawMessage(noArguments),
	},
	{
		Name: SubmitOrder,
		Description: "Place the order once the guest has confirmed it. Returns the order number " +
			"to tell the guest and the total. Calling it again for the same order places it only " +
			"once and returns the same number.",
		Parameters: json.RawMessage(`{
  "type": "object",
  "properties": {
    "customer_name": {"type": "string", "maxLength": 100, "description": "Optional name to call out when the order is ready."}
  },
  "additionalProperties": false
}`),
	},
}
