package graph

import (
	"context"
	"time"

	"github.com/carlot/carlot/loaders"
	"github.com/carlot/carlot/models"
)

// login resolves Mutation.login.
func (r *Resolver) login(ctx context.Context, email, password string) (*AuthPayload, error) {
	u, err := r.Passwords.Authenticate(ctx, r.DB, email, password)
	if err != nil {
		return nil, err
	}
	s, err := models.StartSession(ctx, r.DB, u, r.RefreshTTL)
	if err != nil {
		return nil, err
	}
	return r.authPayload(s)
}

// refresh resolves Mutation.refreshToken.
func (r *Resolver) refresh(ctx context.Context, token string) (*AuthPayload, error) {
	s, err := models.RefreshSession(ctx, r.DB, token, r.RefreshTTL)
	if err != nil {
		return nil, err
	}
	return r.authPayload(s)
}

func (r *Resolver) authPayload(s *models.Session) (*AuthPayload, error) {
	access, exp, err := r.Tokens.Issue(s.User, time.Now())
	if err != nil {
		return nil, err
	}
	return &AuthPayload{AccessToken: access, RefreshToken: s.RefreshToken, ExpiresAt: exp, User: s.User}, nil
}

// me resolves Query.me: the token's user, or nil without a token.
func me(ctx context.Context) (*models.User, error) {
	a := models.ActorFrom(ctx)
	if a == nil {
		return nil, nil
	}
	u, err := loaders.For(ctx).User.Load(ctx, a.UserID)
	if errNotFound(err) {
		return nil, nil // deleted since the token was issued
	}
	return u, err
}

// visibleUser loads a user the actor may see, or nil.
func visibleUser(ctx context.Context, id int64) (*models.User, error) {
	if !models.CanSeeUser(models.ActorFrom(ctx), id) {
		return nil, nil
	}
	u, err := loaders.For(ctx).User.Load(ctx, id)
	if errNotFound(err) {
		return nil, nil
	}
	return u, err
}

// optionalDealer loads a dealer when id is set.
func optionalDealer(ctx context.Context, id *int64) (*models.Dealer, error) {
	if id == nil {
		return nil, nil
	}
	return loaders.For(ctx).Dealer.Load(ctx, *id)
}
