package graph

import (
	"context"
	"encoding/json"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// GraphQL's Int is a signed 32-bit integer: a value outside that range
// cannot be coerced to an Int, whether written in the document or passed
// as a variable. gqlparser checks neither, so Carlot does, before anything
// executes. (JavaScript clients would also lose the precision of larger
// values.)

// validationRules returns GraphQL's validation rules with Carlot's: Int
// literals in 32 bits, and, with introspection off, no __schema or __type.
func validationRules(introspection bool) func() *rules.Rules {
	return func() *rules.Rules {
		r := rules.NewDefaultRules()
		r.AddRule("IntLiteralsIn32Bits", intLiteralsIn32Bits)
		if !introspection {
			r.AddRule("NoIntrospection", noIntrospection)
		}
		return r
	}
}

func intLiteralsIn32Bits(observers *core.Events, addError core.AddErrFunc) {
	observers.OnValue(func(_ *core.Walker, value *ast.Value) {
		if value.Kind != ast.IntValue || value.Definition == nil || value.Definition.Name != "Int" {
			return
		}
		if _, err := strconv.ParseInt(value.Raw, 10, 32); err != nil {
			addError(core.Message("Int cannot represent non 32-bit signed integer value: %s", value.Raw), core.At(value.Position))
		}
	})
}

// intVariables is a gqlgen extension that refuses a request whose variables
// hold an Int, at any depth of input objects and lists, outside 32 bits:
// the variables do not coerce, so the request is invalid
// (GRAPHQL_VALIDATION_FAILED), as gqlparser answers for other variables of
// the wrong type.
type intVariables struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &intVariables{}

func (*intVariables) ExtensionName() string { return "IntVariables" }

func (v *intVariables) Validate(s graphql.ExecutableSchema) error {
	v.schema = s.Schema()
	return nil
}

func (v *intVariables) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	for _, def := range opCtx.Operation.VariableDefinitions {
		value, ok := opCtx.Variables[def.Variable]
		if !ok {
			continue
		}
		if err := v.check(value, def.Type, ast.Path{ast.PathName(def.Variable)}); err != nil {
			errcode.Set(err, errcode.ValidationFailed)
			return err
		}
	}
	return nil
}

// check walks value as a typ and reports the first Int outside 32 bits.
func (v *intVariables) check(value any, typ *ast.Type, path ast.Path) *gqlerror.Error {
	if value == nil || typ == nil {
		return nil
	}
	if typ.Elem != nil {
		list, ok := value.([]any)
		if !ok { // a single value stands for a list of one
			return v.check(value, typ.Elem, path)
		}
		for i, item := range list {
			if err := v.check(item, typ.Elem, append(path[:len(path):len(path)], ast.PathIndex(i))); err != nil {
				return err
			}
		}
		return nil
	}
	if typ.NamedType == "Int" {
		if !intIn32Bits(value) {
			return gqlerror.ErrorPathf(path, "Int cannot represent non 32-bit signed integer value: %v", value)
		}
		return nil
	}
	def := v.schema.Types[typ.NamedType]
	fields, ok := value.(map[string]any)
	if def == nil || def.Kind != ast.InputObject || !ok {
		return nil
	}
	for _, f := range def.Fields {
		if err := v.check(fields[f.Name], f.Type, append(path[:len(path):len(path)], ast.PathName(f.Name))); err != nil {
			return err
		}
	}
	return nil
}

// intIn32Bits reports whether an Int variable's value, as JSON decoding or
// gqlparser's coercion left it, fits a signed 32-bit integer. Other values
// have been refused by gqlparser already.
func intIn32Bits(value any) bool {
	var f float64
	switch n := value.(type) {
	case int:
		return n >= math.MinInt32 && n <= math.MaxInt32
	case int32:
		return true
	case int64:
		return n >= math.MinInt32 && n <= math.MaxInt32
	case float64:
		f = n
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i >= math.MinInt32 && i <= math.MaxInt32
		}
		var err error
		if f, err = n.Float64(); err != nil {
			return false
		}
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return err == nil && i >= math.MinInt32 && i <= math.MaxInt32
	default:
		return true
	}
	return f >= math.MinInt32 && f <= math.MaxInt32
}
