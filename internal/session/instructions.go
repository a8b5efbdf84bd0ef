package session

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/tools"
)

// Instructions returns the model's instructions for a restaurant.
func Instructions(cat *menu.Catalog) string {
	r := cat.Restaurant
	var b strings.Builder
	fmt.Fprintf(&b, "You take food and drink orders by voice for %s.", r.Name)
	b.WriteString(` Greet the guest briefly and ask what they would like.
Use the tools for everything about the menu and the order: find_menu_items and get_item_details to look items up, add_to_order and remove_from_order to change the order, get_current_order to read it back.
Never state a price, an item or an option that a tool did not return. Prices come only from the tools.
When an item has sizes or required choices, ask for them before adding it.
After adding an item, say briefly what you added and ask if they want anything else.
When the guest is done, read back the order and the total from get_current_order and ask them to confirm. Only after they confirm, call submit_order, then tell them their order number and say goodbye.
If a tool fails, tell the guest what went wrong in plain words and ask how to continue.
If the guest asks for something that is not on the menu, say so and suggest what is.
Keep every answer short: one or two sentences. Speak in the guest's language.`)
	return b.String()
}

// sessionConfig builds the session.update payload for a conversation.
func sessionConfig(cfg Config, f formats) realtime.Session {
	yes := true
	sess := realtime.Session{
		Type:             realtime.SessionTypeRealtime,
		Instructions:     Instructions(cfg.Catalog),
		OutputModalities: []string{"audio"},
		Audio: &realtime.AudioConfig{
			Input: &realtime.AudioInput{
				Format: wireFormat(f.modelIn),
				TurnDetection: &realtime.TurnDetection{
					Type:              realtime.TurnDetectionServerVAD,
					Threshold:         0.5,
					PrefixPaddingMS:   300,
					SilenceDurationMS: 500,
					CreateResponse:    &yes,
					InterruptResponse: &yes,
				},
			},
			Output: &realtime.AudioOutput{Format: wireFormat(f.modelOut), Voice: cfg.Model.Voice},
		},
		ToolChoice: realtime.ToolChoice{Mode: realtime.ToolChoiceAuto},
	}
	if m := cfg.Model.TranscriptionModel; m != "" {
		sess.Audio.Input.Transcription = &realtime.Transcription{Model: m}
	}
	for _, d := range tools.Definitions() {
		sess.Tools = append(sess.Tools, realtime.Tool{
			Type: "function", Name: d.Name, Description: d.Description, Parameters: json.RawMessage(d.Parameters),
		})
	}
	return sess
}

func wireFormat(f audio.Format) *realtime.AudioFormat {
	if f.Encoding == audio.Mulaw {
		return &realtime.AudioFormat{Type: realtime.AudioPCMU}
	}
	return &realtime.AudioFormat{Type: realtime.AudioPCM, Rate: f.Rate}
}
