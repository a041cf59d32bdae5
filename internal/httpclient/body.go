package httpclient

import (
	"compress/gzip"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// ErrTooLarge is a success answer larger than the bound its reader set: a cut JSON
// document means nothing, so it is refused whole.
var ErrTooLarge = errors.New("the answer is larger than the client reads")

// ReadBody reads up to limit bytes of the (decompressed) body, so that a misbehaving
// proxy cannot fill memory. Over the limit, a success answer is ErrTooLarge; an error
// answer (cut true) is cut at the limit, its rest ignored. Go's transport decompresses
// gzip it asked for; a server that compresses unasked (or a transport that does not
// ask) leaves Content-Encoding set, and the body is inflated here.
func ReadBody(res *http.Response, limit int64, cut bool) ([]byte, error) {
	var r io.Reader = res.Body
	if strings.EqualFold(strings.TrimSpace(res.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			return nil, fmt.Errorf("reading a gzip answer: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		if !cut {
			return nil, ErrTooLarge
		}
		data = data[:limit]
	}
	return data, nil
}

// BodyText is the text of an error body that is not the service's JSON: an HTML page
// (a load balancer's) without its tags and with its entities decoded, anything else as
// it came. It is not cut or whitespace-collapsed: a body that echoes the request may
// hold a secret, and only the text as sent can be redacted reliably (the Log does that).
func BodyText(contentType string, body []byte) string {
	s := strings.ToValidUTF8(string(body), "\ufffd")
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "text/html" || strings.HasPrefix(strings.TrimSpace(s), "<") {
		// Entities decoded too, so an HTML-escaped secret reads as the secret. A secret
		// that holds tags or references itself changes here; the Redactor knows what
		// these two steps make of it (untrusted.Forms), so it is still found.
		s = html.UnescapeString(untrusted.StripTags(s))
	}
	return strings.TrimSpace(s)
}

// MayHaveBeenSent is false for a transport error that shows the request never left:
// the connection could not be made. Any other may hide a write the server applied.
func MayHaveBeenSent(err error) bool {
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial")
}

// AnswerInDoubt reports whether a call that failed with an answer was a write the
// server may have applied anyway: never a GET; otherwise a 5xx or 408 (a gateway may
// answer so after the write went through), a success whose answer could not be read
// (a 2xx here: the write was applied), or any failure after an earlier attempt whose
// outcome was lost (retried).
func AnswerInDoubt(method string, status int, retried bool) bool {
	if method == http.MethodGet {
		return false
	}
	return retried || status < 300 || status >= 500 || status == http.StatusRequestTimeout
}
