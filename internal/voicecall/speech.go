package voicecall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
)

const (
	// maxTurnWAVBytes bounds one turn's WAV input: ten minutes of 48 kHz stereo PCM16
	// is about 110 MB, far longer than anything a caller says in one turn.
	maxTurnWAVBytes = 128 << 20
	// maxStderrBytes bounds what is kept of espeak-ng's error output for messages.
	maxStderrBytes = 4 << 10
	// espeakWaitDelay bounds the wait for espeak-ng's output pipes after it is killed.
	espeakWaitDelay = 2 * time.Second
	// frameDuration is the length of one frame of caller audio.
	frameDuration = 20 * time.Millisecond
	// trailingSilence follows each turn's speech so the model's end-of-speech
	// detection, which waits for a pause, fires.
	trailingSilence = time.Second
)

// utterance is one turn's audio in the transport's format, padded to whole frames.
type utterance struct {
	turn      Turn
	audio     []byte
	frameSize int
}

// frames returns the number of whole frames in the utterance.
func (u *utterance) frames() int { return len(u.audio) / u.frameSize }

// frame returns frame i.
func (u *utterance) frame(i int) []byte {
	return u.audio[i*u.frameSize : (i+1)*u.frameSize]
}

// prepareTurns loads and converts every turn before the call starts, so a missing
// file or a failing espeak-ng ends the run before anything is dialed.
func prepareTurns(ctx context.Context, turns []Turn, to audio.Format) ([]utterance, error) {
	out := make([]utterance, 0, len(turns))
	for i, t := range turns {
		w, err := loadTurn(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("turn %d (%s): %w", i+1, t, err)
		}
		u, err := encodeTurn(w, to)
		if err != nil {
			return nil, fmt.Errorf("turn %d (%s): %w", i+1, t, err)
		}
		u.turn = t
		if u.frames() == 0 {
			return nil, fmt.Errorf("turn %d (%s): no audio", i+1, t)
		}
		out = append(out, u)
	}
	return out, nil
}

func loadTurn(ctx context.Context, t Turn) (*audio.WAV, error) {
	if t.Text != "" {
		return synthesize(ctx, t.Text)
	}
	f, err := os.Open(t.File)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w, err := audio.ReadWAV(io.LimitReader(f, maxTurnWAVBytes))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.File, err)
	}
	return w, nil
}

// encodeTurn converts w to the format and pads the last frame with silence.
func encodeTurn(w *audio.WAV, to audio.Format) (utterance, error) {
	from := audio.Format{Encoding: audio.PCM16, Rate: w.SampleRate}
	conv, err := audio.NewConverter(from, to)
	if err != nil {
		return utterance{}, err
	}
	pcm := audio.PCM16ToBytes(nil, w.Mono())
	out := conv.Convert(nil, pcm)
	out = conv.Flush(out)

	size := to.FrameSize(frameDuration)
	if rest := len(out) % size; rest != 0 {
		out = append(out, silence(to, size-rest)...)
	}
	return utterance{audio: out, frameSize: size}, nil
}

// silence returns n bytes of digital silence in format f.
func silence(f audio.Format, n int) []byte {
	b := make([]byte, n)
	if f.Encoding == audio.Mulaw {
		for i := range b {
			b[i] = audio.MulawSilence
		}
	}
	return b
}

// synthesize speaks text with espeak-ng in American English. The process runs in its
// own process group, which is killed when ctx ends, and is always waited for.
func synthesize(ctx context.Context, text string) (*audio.WAV, error) {
	cmd := exec.CommandContext(ctx, "espeak-ng", "--stdout", "-v", "en-us", text)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = espeakWaitDelay
	stdout := &boundedBuffer{max: maxTurnWAVBytes}
	stderr := &boundedBuffer{max: maxStderrBytes, truncate: true}
	cmd.Stdout = stdout
	cmd.Stderr = stderr

	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, errors.New("espeak-ng not found in PATH; install espeak-ng or give WAV files instead of text")
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("espeak-ng: %w", context.Cause(ctx))
		}
		if msg := strings.TrimSpace(stderr.buf.String()); msg != "" {
			return nil, fmt.Errorf("espeak-ng: %w: %s", err, msg)
		}
		return nil, fmt.Errorf("espeak-ng: %w", err)
	}
	// espeak-ng writes 0x7FFFF000 as the data size when it streams to a pipe. ReadWAV
	// accepts a data chunk shorter than its header states, so the output reads as is.
	w, err := audio.ReadWAV(bytes.NewReader(stdout.buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("read espeak-ng output: %w", err)
	}
	return w, nil
}

// errOutputTooLarge is returned by boundedBuffer once its limit is passed.
var errOutputTooLarge = errors.New("output too large")

// boundedBuffer keeps at most max bytes. Past the limit it fails the write, which
// ends the subprocess's copy, unless truncate is set, in which case it drops the rest.
type boundedBuffer struct {
	buf      bytes.Buffer
	max      int
	truncate bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if len(p) <= room {
		return b.buf.Write(p)
	}
	if !b.truncate {
		return 0, fmt.Errorf("%w: more than %d bytes", errOutputTooLarge, b.max)
	}
	b.buf.Write(p[:max(room, 0)])
	return len(p), nil
}
