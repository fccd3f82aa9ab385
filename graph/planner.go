package graph

import (
	"encoding/json"
	"time"

	"github.com/carlot/carlot/graph/plan"
	"github.com/carlot/carlot/models"
	"github.com/jackc/pgx/v5/pgxpool"
)

// NewPlanner returns the read planner every vehicle-returning field goes
// through, reading from pool; wait is how long batches of sibling fields
// (the histories of a page of vehicles) collect.
func NewPlanner(pool *pgxpool.Pool, wait time.Duration) *plan.Planner {
	return plan.New(pool, plan.Options{NestedQuery: nestedVehicleQuery, BatchWait: wait})
}

// nestedVehicleQuery turns the arguments of a Dealer.vehicles field, as the
// document gives them, into the page the planner reads for every dealer of
// a page at once.
func nestedVehicleQuery(m map[string]any) (models.VehicleQuery, bool) {
	args, ok := dealerVehiclesArgs(m)
	if !ok {
		return models.VehicleQuery{}, false
	}
	q, _, err := vehicleQuery(pageArgs{first: args.First, after: args.After}, args.Filter, args.OrderBy)
	return q, err == nil
}

type dealerVehiclesArguments struct {
	First   *int                 `json:"first"`
	After   *string              `json:"after"`
	Filter  *VehicleFilter       `json:"filter"`
	OrderBy *models.VehicleOrder `json:"orderBy"`
}

// dealerVehiclesArgs decodes Dealer.vehicles' arguments, already coerced by
// validation, through their JSON form.
func dealerVehiclesArgs(m map[string]any) (dealerVehiclesArguments, bool) {
	var args dealerVehiclesArguments
	b, err := json.Marshal(m)
	if err != nil {
		return args, false
	}
	return args, json.Unmarshal(b, &args) == nil
}
