package models

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/uptrace/bun"
)

// MaxDealerFieldLength bounds a dealer's name and city.
const MaxDealerFieldLength = 200

// Bounds of a dealer's contact details.
const (
	MaxPostalCodeLength = 16
	MaxWebsiteLength    = 2000
	MinPhoneDigits      = 5
	MaxPhoneDigits      = 20
)

// DealerChange is what a create or update says about a dealer: a nil field
// is not given. On update an empty postal code, phone or website clears it.
type DealerChange struct {
	Name, City                 *string
	Latitude, Longitude        *float64
	PostalCode, Phone, Website *string
}

// changesLocation reports whether c touches what only an admin may change.
func (c DealerChange) changesLocation() bool {
	return c.Name != nil || c.City != nil || c.Latitude != nil || c.Longitude != nil
}

// phoneCharacters are those of an international (+1 416 555-0100) or
// national ((416) 555-0100) phone number.
var phoneCharacters = regexp.MustCompile(`^\+?[0-9 ()-]+$`)

// apply validates c and writes the fields it gives into d, recording every
// bad field in inv. creating makes name and city required.
func (c DealerChange) apply(d *Dealer, creating bool, inv *Invalid) {
	for _, f := range []struct {
		field string
		value *string
		dest  *string
	}{{"name", c.Name, &d.Name}, {"city", c.City, &d.City}} {
		if f.value == nil {
			if creating {
				inv.Add(f.field, "must not be empty")
			}
			continue
		}
		v := strings.TrimSpace(*f.value)
		switch {
		case v == "":
			inv.Add(f.field, "must not be empty")
		case strings.ContainsRune(v, 0):
			inv.Add(f.field, "must not contain NUL characters")
		case len([]rune(v)) > MaxDealerFieldLength:
			inv.Add(f.field, "must be at most %d characters", MaxDealerFieldLength)
		default:
			*f.dest = v
		}
	}

	switch {
	case c.Latitude != nil && c.Longitude == nil:
		inv.Add("longitude", "must be given with latitude")
	case c.Latitude == nil && c.Longitude != nil:
		inv.Add("latitude", "must be given with longitude")
	}
	if c.Latitude != nil && (*c.Latitude < -90 || *c.Latitude > 90) {
		inv.Add("latitude", "must be between -90 and 90")
	}
	if c.Longitude != nil && (*c.Longitude < -180 || *c.Longitude > 180) {
		inv.Add("longitude", "must be between -180 and 180")
	}
	if c.Latitude != nil && c.Longitude != nil {
		lat, lon := *c.Latitude, *c.Longitude
		d.Latitude, d.Longitude = &lat, &lon
	}

	if c.PostalCode != nil {
		v := strings.TrimSpace(*c.PostalCode)
		switch {
		case strings.ContainsRune(v, 0):
			inv.Add("postalCode", "must not contain NUL characters")
		case len([]rune(v)) > MaxPostalCodeLength:
			inv.Add("postalCode", "must be at most %d characters", MaxPostalCodeLength)
		default:
			d.PostalCode = emptyAsNil(v)
		}
	}
	if c.Phone != nil {
		v := strings.TrimSpace(*c.Phone)
		digits := strings.Count(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '0'
			}
			return -1
		}, v), "0")
		switch {
		case v == "":
			d.Phone = nil
		case !phoneCharacters.MatchString(v):
			inv.Add("phone", "must hold only digits, spaces, a leading +, - and parentheses")
		case digits < MinPhoneDigits || digits > MaxPhoneDigits:
			inv.Add("phone", "must have %d to %d digits", MinPhoneDigits, MaxPhoneDigits)
		default:
			d.Phone = &v
		}
	}
	if c.Website != nil {
		v := strings.TrimSpace(*c.Website)
		if v == "" {
			d.Website = nil
		} else if msg := websiteProblem(v); msg != "" {
			inv.Add("website", "%s", msg)
		} else {
			d.Website = &v
		}
	}
}

// websiteProblem says what is wrong with a dealer's website, or "".
func websiteProblem(v string) string {
	if len(v) > MaxWebsiteLength {
		return "must be at most 2000 characters"
	}
	u, err := url.Parse(v)
	if err != nil || strings.ContainsAny(v, " \t\r\n\x00") || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "must be an absolute http or https URL"
	}
	return ""
}

func emptyAsNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateDealer validates and stores a dealer; only an admin may.
func CreateDealer(ctx context.Context, db bun.IDB, actor *Actor, c DealerChange) (*Dealer, error) {
	if err := CanCreateDealer(actor); err != nil {
		return nil, err
	}
	var inv Invalid
	d := new(Dealer)
	c.apply(d, true, &inv)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	if _, err := db.NewInsert().Model(d).ExcludeColumn("id", "created_at").Returning("*").Exec(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// UpdateDealer changes dealer id as c says: an admin may change anything,
// staff of the dealer only its contact details (postal code, phone,
// website).
func UpdateDealer(ctx context.Context, db bun.IDB, actor *Actor, id int64, c DealerChange) (*Dealer, error) {
	if err := CanManageSomeVehicles(actor); err != nil {
		return nil, err
	}
	d := new(Dealer)
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model(d).Where("d.id = ?", id).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(CodeNotFound, "dealer not found")
		}
		if err != nil {
			return err
		}
		if err := CanUpdateDealer(actor, id, c.changesLocation()); err != nil {
			return err
		}
		var inv Invalid
		if !c.changesLocation() && c.PostalCode == nil && c.Phone == nil && c.Website == nil {
			inv.Add("input", "name at least one field to change")
		}
		c.apply(d, false, &inv)
		if err := inv.Err(); err != nil {
			return err
		}
		_, err = tx.NewUpdate().Model(d).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
