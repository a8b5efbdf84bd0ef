package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// schemaVersion is the PRAGMA user_version of the schema this code writes.
const schemaVersion = 1

const schema = `
CREATE TABLE IF NOT EXISTS orders (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	id              TEXT    NOT NULL UNIQUE,
	restaurant_id   TEXT    NOT NULL,
	number          TEXT    NOT NULL,
	session_id      TEXT    NOT NULL DEFAULT '',
	idempotency_key TEXT    NOT NULL,
	customer_name   TEXT    NOT NULL DEFAULT '',
	lines           TEXT    NOT NULL, -- JSON array of cart lines
	subtotal        INTEGER NOT NULL,
	tax             INTEGER NOT NULL,
	total           INTEGER NOT NULL,
	currency        TEXT    NOT NULL,
	status          TEXT    NOT NULL,
	created_at      TEXT    NOT NULL, -- RFC 3339 in UTC
	UNIQUE (restaurant_id, idempotency_key),
	UNIQUE (restaurant_id, number)
);
CREATE INDEX IF NOT EXISTS orders_by_restaurant ON orders (restaurant_id, seq);
-- last_number is the number of the restaurant's latest order.
CREATE TABLE IF NOT EXISTS order_counters (
	restaurant_id TEXT    PRIMARY KEY,
	last_number   INTEGER NOT NULL
);
`

const orderColumns = `id, restaurant_id, number, session_id, idempotency_key, customer_name,
	lines, subtotal, tax, total, currency, status, created_at`

// createdAtLayout has a fixed width so that stored times also sort as text.
const createdAtLayout = "2006-01-02T15:04:05.000000000Z07:00"

// busyTimeout is how long SQLite waits for another process's write lock before it
// reports the database busy.
const busyTimeout = 10 * time.Second

// SQLiteStore is a Store in one SQLite file, using the pure-Go modernc.org/sqlite
// driver. It is safe for concurrent use, and several processes may share the file.
type SQLiteStore struct {
	db *sql.DB
	// writes lets one transaction of this process write at a time, so writers queue
	// here, where the wait respects the context, instead of in SQLite's busy handler.
	writes    chan struct{}
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// OpenSQLite opens or creates the order database at path, creating its directory.
// The database runs in WAL mode with synchronous=FULL: every commit is synced to
// disk before Create returns, so an acknowledged order survives a power loss, not
// only a crash of the process. The caller must Close the store.
func OpenSQLite(ctx context.Context, path string) (*SQLiteStore, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open order database: invalid path %q; use a file path without '?' or '#'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open order database: %w", err)
	}
	// The pragmas run on every new connection, because synchronous, busy_timeout and
	// foreign_keys are settings of a connection, not of the file.
	dsn := path + "?_txlock=immediate" +
		"&_pragma=busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(ON)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open order database %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	s := &SQLiteStore{db: db, writes: make(chan struct{}, 1)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open order database %s: %w", path, err)
	}
	return s, nil
}

// migrate creates the schema when the file is new and rejects a schema from a newer
// version of this program.
func (s *SQLiteStore) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > schemaVersion {
		return fmt.Errorf("schema version %d is newer than this program's %d; run a newer voiceorder", version, schemaVersion)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(schemaVersion)); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return nil
}

// Create implements Store. The number is assigned inside the same write transaction
// as the insert, so concurrent creates, also from other processes, get distinct
// numbers. It returns after the commit is on disk.
func (s *SQLiteStore) Create(ctx context.Context, o Order) (Order, bool, error) {
	if s.closed.Load() {
		return Order{}, false, ErrClosed
	}
	if err := validate(&o); err != nil {
		return Order{}, false, fmt.Errorf("create order: %w", err)
	}
	o.ID = uuid.NewString()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = time.Now()
	}
	o.CreatedAt = o.CreatedAt.UTC()
	if o.Status == "" {
		o.Status = StatusPlaced
	}
	lines, err := json.Marshal(o.Lines)
	if err != nil {
		return Order{}, false, fmt.Errorf("create order: encode lines: %w", err)
	}

	select {
	case s.writes <- struct{}{}:
	case <-ctx.Done():
		return Order{}, false, fmt.Errorf("create order: %w", ctx.Err())
	}
	defer func() { <-s.writes }()

	stored, created, err := s.insert(ctx, o, lines)
	if err != nil {
		return Order{}, false, fmt.Errorf("create order: %w", err)
	}
	return stored, created, nil
}

func (s *SQLiteStore) insert(ctx context.Context, o Order, lines []byte) (Order, bool, error) {
	// BEGIN IMMEDIATE (from _txlock) takes the write lock now, so the idempotency
	// check, the counter and the insert see no other writer in between.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Order{}, false, err
	}
	defer tx.Rollback()

	existing, err := scanOrder(tx.QueryRowContext(ctx,
		"SELECT "+orderColumns+" FROM orders WHERE restaurant_id = ? AND idempotency_key = ?",
		o.RestaurantID, o.IdempotencyKey))
	if err == nil {
		return existing, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Order{}, false, err
	}

	var number int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO order_counters (restaurant_id, last_number) VALUES (?, ?)
		ON CONFLICT (restaurant_id) DO UPDATE SET last_number = last_number + 1
		RETURNING last_number`, o.RestaurantID, FirstNumber).Scan(&number)
	if err != nil {
		return Order{}, false, fmt.Errorf("assign number: %w", err)
	}
	o.Number = strconv.FormatInt(number, 10)

	_, err = tx.ExecContext(ctx, "INSERT INTO orders ("+orderColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		o.ID, o.RestaurantID, o.Number, o.SessionID, o.IdempotencyKey, o.CustomerName,
		string(lines), o.Subtotal, o.Tax, o.Total, o.Currency, string(o.Status),
		o.CreatedAt.Format(createdAtLayout))
	if err != nil {
		return Order{}, false, fmt.Errorf("insert: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Order{}, false, fmt.Errorf("commit: %w", err)
	}
	return o, true, nil
}

// Get implements Store.
func (s *SQLiteStore) Get(ctx context.Context, id string) (Order, error) {
	if s.closed.Load() {
		return Order{}, ErrClosed
	}
	o, err := scanOrder(s.db.QueryRowContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE id = ?", id))
	if err != nil {
		return Order{}, fmt.Errorf("get order %q: %w", id, err)
	}
	return o, nil
}

// List implements Store.
func (s *SQLiteStore) List(ctx context.Context, restaurantID string, limit int) ([]Order, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	rows, err := s.db.QueryContext(ctx,
		"SELECT "+orderColumns+" FROM orders WHERE restaurant_id = ? ORDER BY seq DESC LIMIT ?",
		restaurantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("list orders: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return out, nil
}

// Close implements Store. It waits for no write in progress: database/sql closes
// each connection once its query returns. Closing twice is safe.
func (s *SQLiteStore) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

type rowScanner interface {
	Scan(dest ...any) error
}

// scanOrder reads one row of orderColumns; a missing row is ErrNotFound.
func scanOrder(row rowScanner) (Order, error) {
	var (
		o         Order
		lines     string
		status    string
		createdAt string
	)
	err := row.Scan(&o.ID, &o.RestaurantID, &o.Number, &o.SessionID, &o.IdempotencyKey, &o.CustomerName,
		&lines, &o.Subtotal, &o.Tax, &o.Total, &o.Currency, &status, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, ErrNotFound
	}
	if err != nil {
		return Order{}, err
	}
	o.Status = Status(status)
	if err := json.Unmarshal([]byte(lines), &o.Lines); err != nil {
		return Order{}, fmt.Errorf("order %s: decode lines: %w", o.ID, err)
	}
	if o.CreatedAt, err = time.Parse(time.RFC3339Nano, createdAt); err != nil {
		return Order{}, fmt.Errorf("order %s: decode created_at: %w", o.ID, err)
	}
	return o, nil
}

var _ Store = (*SQLiteStore)(nil)
