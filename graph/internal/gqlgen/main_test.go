package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/codegen/templates"
)

// executor is a cut-down executor as gqlgen writes it: a subscription field
// streamed by the event-context variant of its stream resolver, and a plain
// field.
const executor = templates.GeneratedCodeHeader + `

package graph

func (ec *executionContext) _Subscription_vehicleEvents(ctx context.Context, field graphql.CollectedField) (ret func(ctx context.Context) (context.Context, graphql.Marshaler)) {
	return graphql.ResolveFieldStreamWithEventContext(
		ctx,
		ec.OperationContext,
		field,
		ec.fieldContext_Subscription_vehicleEvents,
		func(ctx context.Context) (any, error) { return nil, nil },
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *models.VehicleEvent) graphql.Marshaler {
			return ec.marshalNVehicleEvent(ctx, selections, v)
		},
		true,
		true,
	)
}

func (ec *executionContext) _Vehicle_vin(ctx context.Context, field graphql.CollectedField, obj *models.Vehicle) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		ec.fieldContext_Vehicle_vin,
		func(ctx context.Context) (any, error) {
			return obj.VIN, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2string(ctx, selections, v)
		},
		true,
		true,
	)
}
`

func rewrite(t *testing.T, want sites) (string, error) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(name, []byte(executor), 0o644); err != nil {
		t.Fatal(err)
	}
	err := rewriteExecutor(name, want, nil)
	out, _ := os.ReadFile(name)
	return string(out), err
}

// Every site gqlgen's model has is rewritten, whichever variant of a call
// gqlgen wrote there, and the file says it was post-processed.
func TestRewritesEverySiteOfTheModel(t *testing.T) {
	out, err := rewrite(t, sites{
		{siteStream, "_Subscription_vehicleEvents"}: "Subscription.vehicleEvents",
		{sitePlain, "_Vehicle_vin"}:                 "Vehicle.vin",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"shareRendering(ctx, ec.Resolvers, func(", "resolvePlainField(ec.Resolvers,", executorNote + "\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("the rewritten executor has no %q:\n%s", s, out)
		}
	}
	if !strings.HasPrefix(out, executorNote) {
		t.Errorf("the rewritten executor starts %q, want %q", out[:80], executorNote)
	}
}

// A site of the model that the executor does not have where the rewrite
// looks, or one the executor has that the model does not, fails generation,
// naming it.
func TestFailsOnASiteOutsideTheModel(t *testing.T) {
	for _, tc := range []struct {
		name string
		want sites
		says string
	}{
		{"a site not found", sites{
			{siteStream, "_Subscription_vehicleEvents"}: "Subscription.vehicleEvents",
			{sitePlain, "_Vehicle_vin"}:                 "Vehicle.vin",
			{sitePointer, "_Vehicle_model"}:             "Vehicle.model",
		}, "plain pointer field Vehicle.model (in _Vehicle_model) was not rewritten"},
		{"a site the model lacks", sites{
			{sitePlain, "_Vehicle_vin"}: "Vehicle.vin",
		}, "a subscription field was rewritten in _Subscription_vehicleEvents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := rewrite(t, tc.want)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got error %v, want one saying %q", err, tc.says)
			}
			if out != executor {
				t.Error("the executor was changed although the rewrite failed")
			}
		})
	}
}
