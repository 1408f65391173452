package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// Schemaer is a type that describes its own JSON schema, for types whose
// JSON is not what reflection sees (a custom MarshalJSON, a union).
type Schemaer interface {
	JSONSchema() map[string]any
}

// Descriptions, enumerations and required fields come from struct tags
// next to the json tag:
//
//	Level string `json:"level" doc:"the level the server wants" enum:"normal,heightened" required:"true"`
//
// Named struct types become components of the document under their Go
// name, so two capabilities must not both answer with a type of the same
// name; Document reports such a clash.

var (
	timeType     = reflect.TypeFor[time.Time]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	schemaerType = reflect.TypeFor[Schemaer]()
)

type schemas struct {
	byName map[string]map[string]any
	types  map[string]reflect.Type
	err    error
}

func (s *schemas) of(t reflect.Type) map[string]any {
	if t.Implements(schemaerType) {
		return reflect.Zero(t).Interface().(Schemaer).JSONSchema()
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawType:
		return map[string]any{"description": "any JSON value"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		sc := s.of(t.Elem())
		if _, isRef := sc["$ref"]; isRef {
			return map[string]any{"allOf": []any{sc}, "nullable": true}
		}
		out := map[string]any{"nullable": true}
		for k, v := range sc {
			out[k] = v
		}
		return out
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": s.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": s.of(t.Elem())}
	case reflect.Interface:
		return map[string]any{"description": "any JSON value"}
	case reflect.Struct:
		if t.Name() == "" {
			return s.object(t)
		}
		name := t.Name()
		if prev, ok := s.types[name]; ok {
			if prev != t && s.err == nil {
				s.err = fmt.Errorf("openapi: two types named %s: %s and %s", name, prev.PkgPath(), t.PkgPath())
			}
		} else {
			s.types[name] = t
			s.byName[name] = nil // breaks recursion
			s.byName[name] = s.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	if s.err == nil {
		s.err = fmt.Errorf("openapi: no schema for %s", t)
	}
	return map[string]any{}
}

func (s *schemas) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				emb := s.object(ft)
				for k, v := range emb["properties"].(map[string]any) {
					props[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		sc := s.of(f.Type)
		if d := f.Tag.Get("doc"); d != "" {
			sc = withKey(sc, "description", d)
		}
		if e := f.Tag.Get("enum"); e != "" {
			sc = withKey(sc, "enum", strings.Split(e, ","))
		}
		props[name] = sc
		if f.Tag.Get("required") == "true" && !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func withKey(sc map[string]any, k string, v any) map[string]any {
	if _, isRef := sc["$ref"]; isRef {
		return map[string]any{"allOf": []any{sc}, k: v}
	}
	out := map[string]any{k: v}
	for kk, vv := range sc {
		out[kk] = vv
	}
	return out
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// Info is the document's title and description.
type Info struct {
	Title, Description string
}

// Document builds the OpenAPI 3 document of routes: every route with its
// path and query parameters, request and response schemas reflected from
// the Go types, the roles it allows and the error answers. It fails when
// two schemas share a name or a type has no JSON schema.
func Document(info Info, routes []Route) (map[string]any, error) {
	s := &schemas{byName: map[string]map[string]any{}, types: map[string]reflect.Type{}}
	errRef := s.of(reflect.TypeFor[ErrorBody]())
	errResp := func(d string) map[string]any {
		return map[string]any{"description": d, "content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
	}
	paths := map[string]any{}
	for _, r := range routes {
		roles := []string{string(RoleAdmin)}
		for _, x := range r.Roles {
			roles = append(roles, string(x))
		}
		op := map[string]any{
			"summary":     r.Summary,
			"description": "Roles: " + strings.Join(roles, ", ") + ".",
			"x-roles":     roles,
			"security":    []any{map[string]any{"bearer": []string{}}},
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(r.Pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": s.of(reflect.TypeOf(r.Request))}}}
		}
		ok := map[string]any{"description": "OK"}
		if r.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": s.of(reflect.TypeOf(r.Response))}}
		}
		op["responses"] = map[string]any{
			"200": ok,
			"400": errResp("bad input, naming the field"),
			"401": errResp("missing or wrong token"),
			"403": errResp("the caller's role may not call this route; names the roles that may"),
			"404": errResp("no such object"),
			"409": errResp("the object's state does not allow this; names what is allowed"),
			"413": errResp("request body over the limit, naming it"),
			"500": errResp("internal error, logged with the request id"),
		}
		p := Prefix + r.Pattern
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p].(map[string]any)[strings.ToLower(r.Method)] = op
	}
	if s.err != nil {
		return nil, s.err
	}
	comps := map[string]any{}
	for k, v := range s.byName {
		comps[k] = v
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": info.Title, "version": "1", "description": info.Description},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         comps,
		},
		"security": []any{map[string]any{"bearer": []string{}}},
		"paths":    paths,
	}, nil
}
