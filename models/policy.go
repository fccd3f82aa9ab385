package models

// Authorization decisions, all in one place: resolvers ask here and never
// compare roles themselves.

var (
	errLoginRequired = &Error{Code: CodeUnauthenticated, Message: "log in to do this"}
	errNotYourDealer = &Error{Code: CodeForbidden, Message: "only staff of the vehicle's dealer or an admin may do this"}
	errAdminOnly     = &Error{Code: CodeForbidden, Message: "only an admin may do this"}
	errContactOnly   = &Error{Code: CodeForbidden, Message: "staff may change only their dealer's postal code, phone and website; an admin changes its name, city and location"}
	errNotYourLot    = &Error{Code: CodeForbidden, Message: "only staff of the dealer or an admin may change it"}
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

// CanUpdateDealer allows ADMIN to change anything about a dealer, and STAFF
// of dealerID its contact details only (location says the change touches
// its name, city or coordinates): a listing's identity and place are the
// platform's to vouch for, the phone and website the dealer's own.
func CanUpdateDealer(a *Actor, dealerID int64, location bool) error {
	switch {
	case a == nil:
		return errLoginRequired
	case a.Role == RoleAdmin:
		return nil
	case a.Role != RoleStaff || a.DealerID == nil || *a.DealerID != dealerID:
		return errNotYourLot
	case location:
		return errContactOnly
	}
	return nil
}

// CanSeeUser allows users to see themselves, and admins everyone.
func CanSeeUser(a *Actor, userID int64) bool {
	return a != nil && (a.Role == RoleAdmin || a.UserID == userID)
}
