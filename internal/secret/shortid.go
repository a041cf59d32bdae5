package secret

// ShortID is how messages, the log and the summary name an access key id: "…" and its
// last four characters, which tell keys apart without revealing a masked id (a new key's
// id is half of a credential).
func ShortID(id string) string {
	if len(id) <= 4 {
		return "…" + id
	}
	return "…" + id[len(id)-4:]
}
