package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
)

// Bounds on a vehicle's listing details; the vehicles table checks the same.
const (
	MaxStockNumberLength   = 32
	MaxTrimLength          = 100
	MaxInteriorColorLength = 50
	MaxDescriptionLength   = 5000
	MaxFeatures            = 100
	MaxFeatureLength       = 100
)

// stockNumberConstraint is the unique index that keeps a stock number to one
// vehicle on its dealer's lot, in any letter case.
const stockNumberConstraint = "vehicles_dealer_stock_number"

// earliestInStock is the earliest day a vehicle can have arrived on a lot.
var earliestInStock = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)

// Listing holds the listing details a write sets; a nil field is not given.
// For a new vehicle nil leaves the detail empty (Condition defaults to USED,
// InStockSince to now); for an update it leaves it as it is, while an empty
// string clears a text detail and an empty, non-nil Features clears the
// features.
type Listing struct {
	StockNumber   *string
	Condition     *VehicleCondition
	Trim          *string
	BodyStyle     *BodyStyle
	Transmission  *Transmission
	Drivetrain    *Drivetrain
	InteriorColor *string
	MSRPCents     *int64
	Description   *string
	Features      []string
	InStockSince  *time.Time
}

// given reports whether the listing names any detail.
func (l Listing) given() bool {
	return l.StockNumber != nil || l.Condition != nil || l.Trim != nil || l.BodyStyle != nil ||
		l.Transmission != nil || l.Drivetrain != nil || l.InteriorColor != nil || l.MSRPCents != nil ||
		l.Description != nil || l.Features != nil || l.InStockSince != nil
}

// checkedListing is a Listing after validation: text trimmed, an empty text
// turned into nil (none), features cleaned.
type checkedListing struct {
	Listing
	stockNumber, trim, interiorColor, description *string
	features                                      []string
}

// check records what is wrong with l in inv and returns it cleaned.
//
// The rules: a stock number is 1 to 32 letters, digits, '-', '_', '.' or
// '/' once surrounding spaces are trimmed; a trim and an interior color
// are one line of at most 100 and 50 characters; a description is plain
// text of at most 5,000 characters, in which line breaks and tabs are the
// only control characters; features are at most 100 entries of 1 to 100
// characters on one line each, trimmed, and an entry repeating an earlier
// one in any letter case is dropped; the MSRP is positive; a vehicle
// arrived on the lot no earlier than 1900 and no later than a day from now
// (time zones). An empty text (after trimming) means none.
func (l Listing) check(inv *Invalid) checkedListing {
	c := checkedListing{Listing: l}
	c.stockNumber = validText(inv, "stockNumber", l.StockNumber, MaxStockNumberLength, false)
	if c.stockNumber != nil && strings.ContainsFunc(*c.stockNumber, func(r rune) bool { return !isStockNumberRune(r) }) {
		inv.Add("stockNumber", "may hold only letters, digits, '-', '_', '.' and '/'")
	}
	c.trim = validText(inv, "trim", l.Trim, MaxTrimLength, false)
	c.interiorColor = validText(inv, "interiorColor", l.InteriorColor, MaxInteriorColorLength, false)
	c.description = validText(inv, "description", l.Description, MaxDescriptionLength, true)
	if l.MSRPCents != nil && *l.MSRPCents <= 0 {
		inv.Add("msrpCents", "must be positive")
	}
	if l.InStockSince != nil {
		switch t := *l.InStockSince; {
		case t.Before(earliestInStock):
			inv.Add("inStockSince", "must not be before 1900")
		case t.After(time.Now().Add(24 * time.Hour)):
			inv.Add("inStockSince", "must not be more than a day in the future")
		}
	}
	if l.Features != nil {
		c.features = validFeatures(inv, l.Features)
	}
	return c
}

// isStockNumberRune reports whether r may appear in a stock number: ASCII
// letters and digits, and the separators dealers use.
func isStockNumberRune(r rune) bool {
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./", r))
}

// validText trims a text detail and checks it: at most max characters, no
// NUL, and no control characters but, when multiline, line breaks and tabs.
// It returns nil for an empty text.
func validText(inv *Invalid, field string, s *string, max int, multiline bool) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	refused := func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))
	}
	switch {
	case strings.ContainsRune(t, 0):
		inv.Add(field, "must not contain NUL characters")
	case strings.ContainsFunc(t, refused):
		if multiline {
			inv.Add(field, "must not contain control characters other than line breaks and tabs")
		} else {
			inv.Add(field, "must not contain control characters or line breaks")
		}
	case utf8.RuneCountInString(t) > max:
		inv.Add(field, "must be at most %d characters", max)
	}
	if t == "" {
		return nil
	}
	return &t
}

// validFeatures checks a list of features and returns it trimmed, without
// the entries that repeat an earlier one in any letter case (never nil).
func validFeatures(inv *Invalid, features []string) []string {
	if len(features) > MaxFeatures {
		inv.Add("features", "must have at most %d entries", MaxFeatures)
		return []string{}
	}
	out := make([]string, 0, len(features))
	seen := make(map[string]bool, len(features))
	for i, f := range features {
		field := fmt.Sprintf("features[%d]", i)
		t := validText(inv, field, &f, MaxFeatureLength, false)
		if t == nil {
			inv.Add(field, "must not be blank")
			continue
		}
		if key := strings.ToLower(*t); !seen[key] {
			seen[key] = true
			out = append(out, *t)
		}
	}
	return out
}

// setOn writes the given details of a checked listing onto v (an empty
// text given clears its detail).
func (c checkedListing) setOn(v *Vehicle) {
	if c.StockNumber != nil {
		v.StockNumber = c.stockNumber
	}
	if c.Condition != nil {
		v.Condition = *c.Condition
	}
	if c.Trim != nil {
		v.Trim = c.trim
	}
	if c.BodyStyle != nil {
		v.BodyStyle = c.BodyStyle
	}
	if c.Transmission != nil {
		v.Transmission = c.Transmission
	}
	if c.Drivetrain != nil {
		v.Drivetrain = c.Drivetrain
	}
	if c.InteriorColor != nil {
		v.InteriorColor = c.interiorColor
	}
	if c.MSRPCents != nil {
		v.MSRPCents = c.MSRPCents
	}
	if c.Description != nil {
		v.Description = c.description
	}
	if c.Features != nil {
		v.Features = c.features
	}
	if c.InStockSince != nil {
		v.InStockSince = c.InStockSince.UTC()
	}
}

// listingColumns are the columns of a vehicle's listing details, which an
// update writes.
var listingColumns = []string{
	"stock_number", "condition", "trim", "body_style", "transmission", "drivetrain",
	"interior_color", "msrp_cents", "description", "features", "in_stock_since",
}

// stockNumberTaken is the CONFLICT of a stock number already on the
// dealer's lot.
func stockNumberTaken(stockNumber string) error {
	return Errorf(CodeConflict, "stock number %s is already used by another vehicle of this dealer", stockNumber)
}

// uniqueViolation returns the name of the unique index or constraint a
// PostgreSQL unique_violation (23505) broke, and whether err is one.
func uniqueViolation(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// UnmarshalJSON reads a vehicle as events store it. Events written before
// vehicles had listing details lack them: such a vehicle was USED, in stock
// since it was listed, with no features, as the migration that added the
// details made every vehicle then.
func (v *Vehicle) UnmarshalJSON(b []byte) error {
	type plain Vehicle // no methods: no recursion
	if err := json.Unmarshal(b, (*plain)(v)); err != nil {
		return err
	}
	if v.Condition == "" {
		v.Condition = ConditionUsed
	}
	if v.InStockSince.IsZero() {
		v.InStockSince = v.CreatedAt
	}
	if v.Features == nil {
		v.Features = []string{}
	}
	return nil
}

// narrowsListing reports whether f narrows by a listing detail: condition,
// body style, transmission, drivetrain or stock number.
func (f *VehicleFilter) narrowsListing() bool {
	return f.Conditions != nil || f.BodyStyles != nil || f.Transmissions != nil || f.Drivetrains != nil || f.StockNumber != nil
}

// applyListing adds f's conditions on listing details to a query over
// vehicles aliased v. The stock number is compared in lower case, as the
// unique index on (dealer_id, lower(stock_number)) stores it, so that index
// answers it.
func (f *VehicleFilter) applyListing(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Conditions != nil {
		q = whereOneOf(q, "v.condition", f.Conditions)
	}
	if f.BodyStyles != nil {
		q = whereOneOf(q, "v.body_style", f.BodyStyles)
	}
	if f.Transmissions != nil {
		q = whereOneOf(q, "v.transmission", f.Transmissions)
	}
	if f.Drivetrains != nil {
		q = whereOneOf(q, "v.drivetrain", f.Drivetrains)
	}
	if f.StockNumber != nil {
		q = q.Where("lower(v.stock_number) = lower(?)", *f.StockNumber)
	}
	return q
}

// matchesListing is applyListing outside SQL.
func (f *VehicleFilter) matchesListing(v *Vehicle) bool {
	in := func(set bool, ok bool) bool { return !set || ok }
	return in(f.Conditions != nil, slices.Contains(f.Conditions, v.Condition)) &&
		in(f.BodyStyles != nil, v.BodyStyle != nil && slices.Contains(f.BodyStyles, *v.BodyStyle)) &&
		in(f.Transmissions != nil, v.Transmission != nil && slices.Contains(f.Transmissions, *v.Transmission)) &&
		in(f.Drivetrains != nil, v.Drivetrain != nil && slices.Contains(f.Drivetrains, *v.Drivetrain)) &&
		in(f.StockNumber != nil, v.StockNumber != nil && f.StockNumber != nil && strings.EqualFold(*v.StockNumber, *f.StockNumber))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
