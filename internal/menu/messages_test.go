package menu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/menus"
)

// TestDecimalPriceReportedAlone checks that a price written in dollars is reported once,
// with the cents to write, and not again through the truncated value it decodes to.
func TestDecimalPriceReportedAlone(t *testing.T) {
	data := strings.Replace(string(menus.Default), "price: 275", "price: 2.75", 1)
	_, err := menu.Parse("test.yaml", []byte(data))
	var ve *menu.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Parse = %v, want a ValidationError", err)
	}
	if len(ve.Problems) != 1 {
		t.Fatalf("problems = %+v, want exactly one", ve.Problems)
	}
	if p := ve.Problems[0]; p.Path != "items[0].price" || !strings.Contains(p.Message, "write 275 for 2.75") {
		t.Errorf("problem = %+v, want items[0].price with the hint to write 275", p)
	}
}

// TestUnknownGroupNamesChoices checks that an unknown modifier group lists the groups
// the menu has.
func TestUnknownGroupNamesChoices(t *testing.T) {
	data := strings.Replace(string(menus.Default), "modifier_groups: [roast, shots, milk, sweetener, syrup]", "modifier_groups: [roast, shots, milk, sweetner, syrup]", 1)
	_, err := menu.Parse("test.yaml", []byte(data))
	if err == nil || !strings.Contains(err.Error(), `unknown modifier group "sweetner"; the menu's groups are`) ||
		!strings.Contains(err.Error(), "sweetener") {
		t.Errorf("Parse = %v, want the unknown group named with the groups that exist", err)
	}
}
