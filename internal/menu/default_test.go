package menu_test

import (
	"testing"

	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/menus"
)

func TestDefaultMenuLoads(t *testing.T) {
	c, err := menu.Parse(menus.DefaultName, menus.Default)
	if err != nil {
		t.Fatalf("parse shipped menu: %v", err)
	}
	if got, want := c.TaxPPM(), int64(88750); got != want {
		t.Errorf("TaxPPM() = %d, want %d", got, want)
	}
}
