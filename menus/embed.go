// Package menus embeds the menu file voiceorder runs on when no other menu is
// configured.
package menus

import _ "embed"

// DefaultName is the file name of the embedded menu, used in error messages.
const DefaultName = "menus/corner-cafe.yaml"

// Default is the content of the shipped café menu.
//
//go:embed corner-cafe.yaml
var Default []byte
