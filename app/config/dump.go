package config

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
)

// Dump writes every setting as NAME=value, one a line, with secrets masked:
// keys and tokens show only whether they are set, database URLs lose their
// password.
func (c *Config) Dump(w io.Writer) {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("env")
		if name == "" {
			continue
		}
		val := fmt.Sprint(v.Field(i).Interface())
		if s, ok := v.Field(i).Interface().([]string); ok {
			val = strings.Join(s, ",")
		}
		switch f.Tag.Get("secret") {
		case "true":
			val = mask(val)
		case "url":
			val = maskURL(val)
		}
		fmt.Fprintf(w, "%s=%s\n", name, val)
	}
}

func mask(s string) string {
	if s == "" {
		return "(unset)"
	}
	return "****** (set)"
}

func maskURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "****** (unparsable)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
