package localmodel

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/ckd_alloc.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>
#include <sphinxbase/fsg_model.h>

// vo_last_error holds the last error the library reported on this OS thread, so
// that a failed call can be explained without the library printing to stderr.
static __thread char vo_last_error[512];

static void vo_log(void *user_data, err_lvl_t level, const char *format, ...) {
	if (level < ERR_ERROR) {
		return;
	}
	va_list args;
	va_start(args, format);
	vsnprintf(vo_last_error, sizeof vo_last_error, format, args);
	va_end(args);
}

static void vo_route_log(void) {
	err_set_logfp(NULL);
	err_set_callback(vo_log, NULL);
}
static void vo_clear_error(void) { vo_last_error[0] = 0; }
static const char *vo_error(void) { return vo_last_error; }

// vo_config parses name-value pairs into a decoder configuration.
static cmd_ln_t *vo_config(int argc, char **argv) {
	return cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
}

// vo_set_grammar parses the JSGF text, builds the search graph from its first
// public rule and makes it the active search. It frees the parsed grammar, which
// ps_set_jsgf_string in pocketsphinx 5prealpha does not.
static int vo_set_grammar(ps_decoder_t *ps, const char *text) {
	float32 lw = cmd_ln_float32_r(ps_get_config(ps), "-lw");
	fsg_model_t *fsg = jsgf_read_string(text, ps_get_logmath(ps), lw);
	if (fsg == NULL) {
		return -1;
	}
	int rv = ps_set_fsg(ps, "menu", fsg);
	fsg_model_free(fsg);
	if (rv != 0) {
		return -1;
	}
	return ps_set_search(ps, "menu");
}

// vo_word_scores sums the acoustic scores and frame counts of the words of the
// best path, leaving out silence, noise and null transitions, whose names start
// with '<', '[', '+' or '('.
static void vo_word_scores(ps_decoder_t *ps, int32 *score, int32 *frames) {
	*score = 0;
	*frames = 0;
	for (ps_seg_t *seg = ps_seg_iter(ps); seg != NULL; seg = ps_seg_next(seg)) {
		const char *word = ps_seg_word(seg);
		if (word == NULL || word[0] == '<' || word[0] == '[' || word[0] == '+' || word[0] == '(') {
			continue;
		}
		int start = 0, end = 0;
		int32 ascr = 0, lscr = 0, lback = 0;
		ps_seg_frames(seg, &start, &end);
		ps_seg_prob(seg, &ascr, &lscr, &lback);
		*score += ascr;
		*frames += end - start + 1;
	}
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"unsafe"
)

// SampleRate is the rate of the audio the recognizer decodes.
const SampleRate = 16000

// MaxDecodeSeconds bounds one utterance passed to Decode; the voice activity
// detector ends utterances well before this.
const MaxDecodeSeconds = 60

// RecognizerConfig selects the acoustic model, the words and the grammar of a
// recognizer.
type RecognizerConfig struct {
	// ModelDir is the acoustic model directory (mdef, means, variances, ...).
	// Empty means DefaultModelDir.
	ModelDir string
	// Dictionary lists the pronunciation of every word in Grammar; Subset of the
	// full dictionary keeps the decoder small.
	Dictionary *Dictionary
	// Grammar is the JSGF text to recognize; its first public rule is the start.
	Grammar string
}

// Hypothesis is the best word sequence for one utterance.
type Hypothesis struct {
	// Text is the recognized words separated by single spaces, or empty when the
	// recognizer found no path through the grammar.
	Text string
	// Score is the path score on pocketsphinx's integer log-likelihood scale,
	// relative to the best-scoring model state of each frame. It is zero or
	// negative; only scores of the same model and grammar compare.
	Score int
	// Frames is the number of 10 ms frames searched.
	Frames int
	// ScorePerFrame is Score/Frames.
	ScorePerFrame float64
	// WordScore is the acoustic score of the recognized words alone, without
	// silence and noise segments, over their WordFrames frames.
	WordScore  int
	WordFrames int
	// WordScorePerFrame is WordScore/WordFrames, the confidence measure to
	// threshold. Unlike ScorePerFrame it is not raised by the silence around an
	// utterance, which scores well whatever the words are.
	WordScorePerFrame float64
}

// Recognizer is one resident pocketsphinx decoder with one grammar. It is not safe
// for concurrent use: give each conversation its own and call it from one goroutine
// at a time.
type Recognizer struct {
	ps   *C.ps_decoder_t
	argv []*C.char
}

// decoderArgs are the pocketsphinx options besides the model directory.
var decoderArgs = []string{"-beam", "1e-80", "-pbeam", "1e-80", "-wbeam", "1e-60"}

// routeLogOnce turns pocketsphinx's logging off for the process, and keeps only
// errors, per thread, for error messages. The -logfn option is not used: it
// reopens a process-wide log file at every decoder start, which would race with
// other conversations' decoders writing to the file being replaced.
var routeLogOnce sync.Once

// NewRecognizer loads the acoustic model, adds the dictionary's words and activates
// the grammar. It takes about a tenth of a second; the caller must Close the result.
func NewRecognizer(cfg RecognizerConfig) (*Recognizer, error) {
	if cfg.ModelDir == "" {
		cfg.ModelDir = DefaultModelDir
	}
	if cfg.Dictionary == nil || cfg.Dictionary.Len() == 0 {
		return nil, errors.New("new recognizer: dictionary is empty")
	}
	if cfg.Grammar == "" {
		return nil, errors.New("new recognizer: grammar is empty")
	}
	// The library ends the process on some unreadable model files instead of
	// returning an error, so check that they are there first.
	for _, name := range []string{"mdef", "means", "variances", "transition_matrices", "feat.params"} {
		if _, err := os.Stat(filepath.Join(cfg.ModelDir, name)); err != nil {
			return nil, fmt.Errorf("new recognizer: acoustic model: %w", err)
		}
	}

	// Library errors are kept in thread-local storage; stay on this thread until
	// they have been read.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	routeLogOnce.Do(func() { C.vo_route_log() })
	C.vo_clear_error()

	args := append([]string{"voiceorder", "-hmm", cfg.ModelDir}, decoderArgs...)
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	// Older sphinxbase releases keep pointers into argv, so it lives as long as
	// the decoder.
	r := &Recognizer{argv: argv}
	config := C.vo_config(C.int(len(argv)), &argv[0])
	if config == nil {
		r.Close()
		return nil, fmt.Errorf("new recognizer: configuration: %s", lastError())
	}
	// The decoder keeps its own reference to the configuration.
	defer C.cmd_ln_free_r(config)
	ps := C.ps_init(config)
	if ps == nil {
		r.Close()
		return nil, fmt.Errorf("new recognizer: load model %s: %s", cfg.ModelDir, lastError())
	}
	r.ps = ps
	if err := r.addWords(cfg.Dictionary); err != nil {
		r.Close()
		return nil, fmt.Errorf("new recognizer: %w", err)
	}
	grammar := C.CString(cfg.Grammar)
	defer C.free(unsafe.Pointer(grammar))
	if C.vo_set_grammar(ps, grammar) != 0 {
		r.Close()
		return nil, fmt.Errorf("new recognizer: grammar rejected: %s", lastError())
	}
	return r, nil
}

func (r *Recognizer) addWords(d *Dictionary) error {
	for _, w := range d.Words() {
		for i, phones := range d.Pronunciations(w) {
			name := w
			if i > 0 {
				name = fmt.Sprintf("%s(%d)", w, i+1)
			}
			cw, cp := C.CString(name), C.CString(phones)
			rv := C.ps_add_word(r.ps, cw, cp, 0)
			C.free(unsafe.Pointer(cw))
			C.free(unsafe.Pointer(cp))
			if rv < 0 {
				return fmt.Errorf("add word %q: %s", name, lastError())
			}
		}
	}
	return nil
}

// HasWord reports whether the decoder's dictionary contains the word.
func (r *Recognizer) HasWord(word string) bool {
	if r.ps == nil {
		return false
	}
	cw := C.CString(word)
	defer C.free(unsafe.Pointer(cw))
	phones := C.ps_lookup_word(r.ps, cw)
	if phones == nil {
		return false
	}
	C.ckd_free(unsafe.Pointer(phones))
	return true
}

// Decode recognizes one whole utterance of 16 kHz mono samples. The decoder gets
// the utterance at once (full_utt), which is more accurate than streaming it in
// pieces. An utterance outside the grammar still yields some text; callers reject
// it by WordScorePerFrame.
func (r *Recognizer) Decode(samples []int16) (Hypothesis, error) {
	if r.ps == nil {
		return Hypothesis{}, errors.New("decode: recognizer is closed")
	}
	if len(samples) > MaxDecodeSeconds*SampleRate {
		return Hypothesis{}, fmt.Errorf("decode: utterance of %d samples is longer than %d s", len(samples), MaxDecodeSeconds)
	}
	if len(samples) == 0 {
		return Hypothesis{}, nil
	}
	if C.ps_start_utt(r.ps) < 0 {
		return Hypothesis{}, errors.New("decode: start utterance failed")
	}
	n := C.ps_process_raw(r.ps, (*C.int16)(unsafe.Pointer(&samples[0])), C.size_t(len(samples)), 0, 1)
	if C.ps_end_utt(r.ps) < 0 || n < 0 {
		return Hypothesis{}, errors.New("decode: processing failed")
	}
	var score C.int32
	hyp := C.ps_get_hyp(r.ps, &score)
	h := Hypothesis{Score: int(score), Frames: int(C.ps_get_n_frames(r.ps))}
	if hyp != nil {
		h.Text = C.GoString(hyp)
	}
	var wordScore, wordFrames C.int32
	C.vo_word_scores(r.ps, &wordScore, &wordFrames)
	h.WordScore, h.WordFrames = int(wordScore), int(wordFrames)
	if h.Frames > 0 {
		h.ScorePerFrame = float64(h.Score) / float64(h.Frames)
	}
	if h.WordFrames > 0 {
		h.WordScorePerFrame = float64(h.WordScore) / float64(h.WordFrames)
	}
	return h, nil
}

// Close frees the decoder. It is safe to call more than once.
func (r *Recognizer) Close() error {
	if r.ps != nil {
		C.ps_free(r.ps)
		r.ps = nil
	}
	for _, a := range r.argv {
		C.free(unsafe.Pointer(a))
	}
	r.argv = nil
	return nil
}

func lastError() string {
	msg := C.GoString(C.vo_error())
	if msg == "" {
		return "no detail reported"
	}
	return msg
}
