package models_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

// rollupDrift lists the rollup groups that differ from a GROUP BY over the
// vehicles (a group missing on one side counts as zero there), in every
// rollup.
func rollupDrift(t *testing.T, db bun.IDB) []string {
	t.Helper()
	var out []string
	for _, r := range []struct{ table, key, group string }{
		{"vehicle_rollup", "dealer_id, make_id, model_id, status, fuel, condition, body_style",
			"dealer_id, make_id, model_id, status, fuel, condition, coalesce(body_style, '') AS body_style"},
		{"vehicle_total_rollup", "make_id, model_id, status, fuel, condition, body_style",
			"make_id, model_id, status, fuel, condition, coalesce(body_style, '') AS body_style"},
		{"vehicle_color_rollup", "make_id, model_id, status, fuel, color, trim",
			"make_id, model_id, status, fuel, coalesce(color, '') AS color, coalesce(trim, '') AS trim"},
	} {
		t.Run(r.table, func(t *testing.T) {
			var rows []struct {
				Key                   string
				Rolled, Counted       int64
				RolledSum, CountedSum int64
			}
			err := db.NewRaw(`
			SELECT concat_ws(' ', `+r.key+`) AS key,
			       coalesce(r.vehicles, 0) AS rolled, coalesce(g.vehicles, 0) AS counted,
			       coalesce(r.price_cents, 0) AS rolled_sum, coalesce(g.price_cents, 0) AS counted_sum
			FROM `+r.table+` r
			FULL JOIN (SELECT `+r.group+`, count(*) AS vehicles, sum(price_cents) AS price_cents
			           FROM vehicles GROUP BY `+r.key+`) g USING (`+r.key+`)
			WHERE coalesce(r.vehicles, 0) <> coalesce(g.vehicles, 0) OR coalesce(r.price_cents, 0) <> coalesce(g.price_cents, 0)
			ORDER BY 1`).Scan(context.Background(), &rows)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range rows {
				out = append(out, fmt.Sprintf("%s %s: rollup %d vehicles / %d cents, table %d / %d",
					r.table, d.Key, d.Rolled, d.RolledSum, d.Counted, d.CountedSum))
			}
		})
	}
	for _, r := range []struct{ table, key, wide string }{
		{"vehicle_facet_rollup", "dealer_id, make_id, model_id, status, fuel, condition, body_style", ""},
		{"vehicle_facet_total_rollup", "make_id, model_id, status, fuel, condition, body_style",
			", ('price_wide', floor(v.price_cents / 500000.0)::bigint)"},
	} {
		t.Run(r.table, func(t *testing.T) {
			var rows []struct {
				Key             string
				Rolled, Counted int64
			}
			key := r.key + ", facet, value"
			err := db.NewRaw(`
			SELECT concat_ws(' ', `+key+`) AS key, coalesce(r.vehicles, 0) AS rolled, coalesce(g.vehicles, 0) AS counted
			FROM `+r.table+` r
			FULL JOIN (SELECT `+r.key+`, f.facet, f.value, count(*) AS vehicles
			           FROM (SELECT v.dealer_id, v.make_id, v.model_id, v.status, v.fuel, v.condition,
			                 coalesce(v.body_style, '') AS body_style, v.year, v.price_cents FROM vehicles v) v
			           CROSS JOIN LATERAL (VALUES ('year', v.year::bigint),
			                ('price', floor(v.price_cents / 50000.0)::bigint)`+r.wide+`) f(facet, value)
			           GROUP BY `+key+`) g USING (`+key+`)
			WHERE coalesce(r.vehicles, 0) <> coalesce(g.vehicles, 0)
			ORDER BY 1`).Scan(context.Background(), &rows)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range rows {
				out = append(out, fmt.Sprintf("%s %s: rollup %d vehicles, table %d", r.table, d.Key, d.Rolled, d.Counted))
			}
		})
	}
	return out
}

// randomVIN returns a valid VIN that no demo vehicle has (demo VINs have a
// 0 in position 10, these a Z).
func randomVIN(r *rand.Rand) string {
	const alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	b := make([]byte, models.VINLength)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	b[9] = 'Z'
	b[8] = models.CheckDigit(string(b))
	return string(b)
}

type catalogIDs struct {
	models  []int64
	dealers []int64
	admin   int64
}

func readCatalog(t *testing.T, db bun.IDB) catalogIDs {
	t.Helper()
	ctx := context.Background()
	var c catalogIDs
	if err := db.NewRaw("SELECT id FROM models ORDER BY id").Scan(ctx, &c.models); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw("SELECT id FROM dealers ORDER BY id").Scan(ctx, &c.dealers); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw("SELECT id FROM users WHERE email = ?", testdb.AdminEmail).Scan(ctx, &c.admin); err != nil {
		t.Fatal(err)
	}
	return c
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

var fuels = []models.FuelType{models.FuelGasoline, models.FuelDiesel, models.FuelHybrid, models.FuelElectric}

// Writers on several connections create, update (moving vehicles between
// dealers, changing their status, price, color, condition, body style and
// trim) and delete at random through
// the API's write functions, while one more rewrites and deletes several
// rows per statement in plain SQL; the rollup must match the table after.
func TestRollupStaysExactUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Seeded)
	ctx := context.Background()
	if drift := rollupDrift(t, db); len(drift) > 0 {
		t.Fatalf("rollup differs after the seed: %q", drift)
	}
	cat := readCatalog(t, db)
	actor := &models.Actor{UserID: cat.admin, Role: models.RoleAdmin}
	var ids []int64
	if err := db.NewRaw("SELECT id FROM vehicles ORDER BY id").Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}

	const writers, opsPerWriter = 6, 80
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for range opsPerWriter {
				if err := randomWrite(ctx, db, r, actor, cat, ids); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // multi-row statements, as a script or psql would write
		defer wg.Done()
		r := rand.New(rand.NewPCG(99, 42))
		for i := range 30 {
			some := []int64{pick(r, ids), pick(r, ids), pick(r, ids)}
			var err error
			switch i % 4 {
			case 3: // the facets' columns, which the API's writes may not change
				_, err = db.NewRaw("UPDATE vehicles SET condition = ?, body_style = nullif(?, ''), year = year + ? WHERE id IN (?)",
					pick(r, models.VehicleConditions), pick(r, []string{"SUV", "COUPE", ""}), r.IntN(3)-1, bun.In(some)).Exec(ctx)
			case 0:
				_, err = db.NewRaw("UPDATE vehicles SET status = ?, price_cents = price_cents + 100, color = nullif(?, ''), trim = nullif(?, '') WHERE id IN (?)",
					pick(r, models.VehicleStatuses), pick(r, []string{"Teal", ""}), pick(r, []string{"Preferred", "XLE", ""}), bun.In(some)).Exec(ctx)
			case 1:
				_, err = db.NewRaw("UPDATE vehicles SET dealer_id = ? WHERE id IN (?)", pick(r, cat.dealers), bun.In(some)).Exec(ctx)
			default:
				_, err = db.NewRaw("DELETE FROM vehicles WHERE id IN (?)", bun.In(some)).Exec(ctx)
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if drift := rollupDrift(t, db); len(drift) > 0 {
		t.Fatalf("rollup differs after concurrent writes:\n%s", drift)
	}

	t.Run("truncate empties it", func(t *testing.T) {
		if _, err := db.ExecContext(ctx, "TRUNCATE vehicles CASCADE"); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := db.NewRaw("SELECT (SELECT coalesce(sum(vehicles), 0) FROM vehicle_rollup) + (SELECT coalesce(sum(vehicles), 0) FROM vehicle_color_rollup) + (SELECT coalesce(sum(vehicles), 0) FROM vehicle_facet_rollup) + (SELECT coalesce(sum(vehicles), 0) FROM vehicle_facet_total_rollup) + (SELECT coalesce(sum(vehicles), 0) FROM vehicle_total_rollup)").Scan(ctx, &left); err != nil || left != 0 {
			t.Fatalf("rollup counts %d vehicles after TRUNCATE (%v)", left, err)
		}
	})
}

// randomWrite creates, updates or deletes one vehicle; a vehicle another
// writer deleted first is no failure.
func randomWrite(ctx context.Context, db *bun.DB, r *rand.Rand, actor *models.Actor, cat catalogIDs, ids []int64) error {
	var err error
	switch n := r.IntN(10); {
	case n < 3:
		color := pick(r, []string{"Red", "Blue", "Oxford Green"})
		nv := models.NewVehicle{
			VIN: randomVIN(r), ModelID: pick(r, cat.models), DealerID: pick(r, cat.dealers), Year: 2015 + r.IntN(10),
			Color: &color, MileageKm: r.IntN(200_000), PriceCents: int64(500_000 + r.IntN(9_000_000)),
			Fuel: pick(r, fuels), Status: pick(r, models.VehicleStatuses),
		}
		if r.IntN(2) == 0 {
			nv.Condition = ptr(pick(r, models.VehicleConditions))
			nv.BodyStyle = ptr(pick(r, models.BodyStyles))
			nv.Trim = ptr(pick(r, []string{"Preferred", "XLE", "Sport"}))
		}
		_, err = models.CreateVehicle(ctx, db, actor, nv)
	case n < 9:
		var patch models.VehiclePatch
		switch r.IntN(7) {
		case 4:
			patch.Color = ptr(pick(r, []string{"Red", "Blue", ""}))
		case 5:
			patch.Condition = ptr(pick(r, models.VehicleConditions))
			patch.BodyStyle = ptr(pick(r, models.BodyStyles))
		case 6:
			patch.Trim = ptr(pick(r, []string{"Preferred", "XLE", ""}))
		case 0:
			patch.DealerID = ptr(pick(r, cat.dealers))
		case 1:
			patch.Status = ptr(pick(r, models.VehicleStatuses))
		case 2:
			patch.PriceCents = ptr(int64(100_000 + r.IntN(5_000_000)))
		default:
			patch.DealerID, patch.Status = ptr(pick(r, cat.dealers)), ptr(pick(r, models.VehicleStatuses))
			patch.PriceCents = ptr(int64(100_000 + r.IntN(5_000_000)))
		}
		_, err = models.UpdateVehicle(ctx, db, actor, pick(r, ids), patch, nil)
	default:
		err = models.DeleteVehicle(ctx, db, actor, pick(r, ids), nil)
	}
	if e := (*models.Error)(nil); errors.As(err, &e) && e.Code == models.CodeNotFound {
		return nil
	}
	return err
}
