# Sourced by .ci/with-servers: start_chroma starts the server (unless its RESPONDER_TEST_* variables are set),
# exports them, and appends its stop function to STOPS.
start_chroma() {
  :
}
