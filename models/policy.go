package models

// Authorization decisions, all in one place: resolvers ask here and never
// compare roles themselves.

var (
	errLoginRequired = &Error{Code: CodeUnauthenticated, Message: "log in to do this"}
	errNotYourDealer = &Error{Code: CodeForbidden, Message: "only staff of the vehicle's dealer or an admin may do this"}
	errAdminOnly     = &Error{Code: CodeForbidden, Message: "only an admin may do this"}
)

// CanManageDealerVehicles allows ADMIN, and STAFF of dealerID: who may
// create, change, move, delete and see the history of that dealer's vehicles.
func CanManageDealerVehicles(a *Actor, dealerID int64) error {
	switch {
	case a == nil:
		return errLoginRequired
	case a.Role == RoleAdmin:
		return nil
	case a.Role == RoleStaff && a.DealerID != nil && *a.DealerID == dealerID:
		return nil
	}
	return errNotYourDealer
}

// CanManageSomeVehicles allows the roles that can write vehicles at all, so
// that a VIEWER is refused before their input is even looked at.
func CanManageSomeVehicles(a *Actor) error {
	switch {
	case a == nil:
		return errLoginRequired
	case a.Role == RoleAdmin, a.Role == RoleStaff:
		return nil
	}
	return errNotYourDealer
}

// CanCreateDealer allows ADMIN only.
func CanCreateDealer(a *Actor) error {
	switch {
	case a == nil:
		return errLoginRequired
	case a.Role == RoleAdmin:
		return nil
	}
	return errAdminOnly
}

// CanSeeUser allows users to see themselves, and admins everyone.
func CanSeeUser(a *Actor, userID int64) bool {
	return a != nil && (a.Role == RoleAdmin || a.UserID == userID)
}
