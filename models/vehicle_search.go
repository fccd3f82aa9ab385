package models

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/schema"
)

// SearchTerm is one search word made ready for SQL by ResolveSearch.
//
// A word matches a vehicle whose VIN, color, trim, stock number, make name
// or model name contains it, ignoring case, with % and _ taken literally.
// Make and model names live in two small tables, so they are matched there
// first and the word's condition on vehicles becomes
//
//	(v.vin ILIKE Pattern OR v.color ILIKE Pattern OR v.trim ILIKE Pattern
//	 OR v.stock_number ILIKE Pattern OR v.model_id = ANY(ModelIDs))
//
// which PostgreSQL answers by OR-ing five bitmap index scans (the four
// trigram indexes and the model index). Written with a sub-select over
// models instead, the same condition is evaluated row by row over the
// whole table.
type SearchTerm struct {
	// Word is the search word as given.
	Word string
	// Pattern is Word as an ILIKE pattern: %word%, with \, % and _ escaped.
	Pattern string
	// ModelIDs are the models whose name, or whose make's name, contains
	// Word (never nil, possibly empty), in ascending order.
	ModelIDs []int64
	// InVINs, InColors, InTrims and InStockNumbers report whether, when the
	// word was resolved, some vehicle's VIN, color, trim or stock number
	// contained it. In none of them, the word selects exactly the vehicles
	// of ModelIDs, and counts come from the vehicle rollup; in colors or
	// trims only, from the color rollup (see VehicleFilter.Rollup). No
	// rollup knows VINs or stock numbers.
	InVINs, InColors, InTrims, InStockNumbers bool
}

// couldBeInVIN reports whether word might occur in some VIN, ignoring case.
// It is false when the word is longer than a VIN or holds an ASCII
// character that no VIN character matches case-insensitively (I, O, Q,
// punctuation, spaces); other characters are left to the database, whose
// case folding may differ from Go's outside ASCII. (vinAlphabet holds the
// characters a VIN is made of, which the vehicles table checks.)
func couldBeInVIN(word string) bool {
	if utf8.RuneCountInString(word) > VINLength {
		return false
	}
	for _, r := range word {
		if r < utf8.RuneSelf && !strings.ContainsRune(vinAlphabet, unicode.ToUpper(r)) {
			return false
		}
	}
	return true
}

// ResolveSearch returns f with its search words resolved into Search (f
// itself when it has no words or they are resolved already; f is never
// modified, as other goroutines may be reading it). One statement finds,
// for each word, the models it names and whether any VIN, color, trim or
// stock number contains it.
//
// Every query over vehicles runs its filter through ResolveSearch first;
// one that builds its own SQL from a filter (graph/plan) runs SearchProbe
// and WithSearch instead, and writes each term's condition as SearchTerm
// describes.
func ResolveSearch(ctx context.Context, db bun.IDB, f *VehicleFilter) (*VehicleFilter, error) {
	if !f.NeedsSearch() {
		return f, nil
	}
	query, args := searchProbe(f.SearchWords)
	var rows []SearchProbeRow
	if err := db.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	return f.WithSearch(rows)
}

// NeedsSearch reports whether f has search words not resolved yet.
func (f *VehicleFilter) NeedsSearch() bool {
	return f != nil && len(f.SearchWords) > 0 && f.Search == nil
}

// searchProbe is ResolveSearch's statement, in bun's form.
func searchProbe(words []string) (string, []any) {
	// One row per word, each planned with its own literal pattern, so the
	// VIN and color probes use the trigram indexes when the word is rare
	// and stop at the first row when it is common.
	parts := make([]string, len(words))
	args := make([]any, len(words))
	for i, w := range words {
		vinProbe := "false"
		if couldBeInVIN(w) {
			vinProbe = "EXISTS (SELECT 1 FROM vehicles v WHERE v.vin ILIKE ?0)"
		}
		parts[i] = "?"
		args[i] = bun.SafeQuery(`SELECT ?1 AS word,
			ARRAY(SELECT md.id FROM models md JOIN makes mk ON mk.id = md.make_id
				WHERE md.name ILIKE ?0 OR mk.name ILIKE ?0 ORDER BY md.id) AS model_ids,
			`+vinProbe+` AS in_vins,
			EXISTS (SELECT 1 FROM vehicles v WHERE v.color ILIKE ?0) AS in_colors,
			EXISTS (SELECT 1 FROM vehicles v WHERE v.trim ILIKE ?0) AS in_trims,
			EXISTS (SELECT 1 FROM vehicles v WHERE v.stock_number ILIKE ?0) AS in_stock_numbers`, ContainsPattern(w), i)
	}
	return strings.Join(parts, "\nUNION ALL\n"), args
}

// sqlText writes bun-form queries' arguments into their text.
var sqlText = schema.NewQueryGen(pgdialect.New())

// SearchProbe is the statement ResolveSearch sends for words, as SQL text
// with the patterns written in as literals, for code that runs its own SQL
// on a pgx connection: it returns one row per word (word: the word's index,
// model_ids, in_vins, in_colors, in_trims, in_stock_numbers), to scan into
// SearchProbeRow and hand to
// WithSearch. PostgreSQL must plan it with the patterns in view (a rare
// word's probe reads the trigram index, a common one stops at its first
// row); with literals no cached generic plan can hide them.
func SearchProbe(words []string) string {
	query, args := searchProbe(words)
	return sqlText.FormatQuery(query, args...)
}

// SearchProbeRow is one row of the search probe: the word at index Word.
type SearchProbeRow struct {
	Word     int     `bun:"word"`
	ModelIDs []int64 `bun:"model_ids,array"`
	InVINs   bool    `bun:"in_vins"`
	InColors bool    `bun:"in_colors"`
	InTrims  bool    `bun:"in_trims"`
	// InStockNumbers is whether some stock number contains the word.
	InStockNumbers bool `bun:"in_stock_numbers"`
}

// WithSearch returns f with Search filled from the search probe's rows,
// one for each of f's words.
func (f *VehicleFilter) WithSearch(rows []SearchProbeRow) (*VehicleFilter, error) {
	if len(rows) != len(f.SearchWords) {
		return nil, fmt.Errorf("resolve search: %d rows for %d words", len(rows), len(f.SearchWords))
	}
	resolved := *f
	resolved.Search = make([]SearchTerm, len(f.SearchWords))
	for _, r := range rows {
		if r.Word < 0 || r.Word >= len(f.SearchWords) {
			return nil, fmt.Errorf("resolve search: no word %d", r.Word)
		}
		ids := r.ModelIDs
		if ids == nil {
			ids = []int64{}
		}
		w := f.SearchWords[r.Word]
		resolved.Search[r.Word] = SearchTerm{Word: w, Pattern: ContainsPattern(w), ModelIDs: ids,
			InVINs: r.InVINs, InColors: r.InColors, InTrims: r.InTrims, InStockNumbers: r.InStockNumbers}
	}
	return &resolved, nil
}

// where adds the term's condition on vehicles aliased v.
func (t SearchTerm) where(q *bun.SelectQuery) *bun.SelectQuery {
	return q.Where("(v.vin ILIKE ?0 OR v.color ILIKE ?0 OR v.trim ILIKE ?0 OR v.stock_number ILIKE ?0 OR v.model_id = ANY(?1))",
		t.Pattern, pgdialect.Array(t.ModelIDs))
}
