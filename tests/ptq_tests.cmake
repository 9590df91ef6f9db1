# octet calibrate --ptq (issue 8): bias correction, AdaRound and CLE end to
# end through the CLI. include()d from tests/CMakeLists.txt.
#   ptq       a synthetic Conv layer: the mean-shift removal, AdaRound's
#             reconstruction, the Q/DQ export under ONNX Runtime, CLE through
#             the CLI (half a minute)
#   ptq_real  AdaRound at 4 bits on mobilenetv2-12 and yolov5n: each
#             optimised layer's reconstruction MSE below round to nearest
#             (a few minutes; slow: the release build only)
add_test(NAME ptq
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_ptq.py --octet $<TARGET_FILE:octet>)
set_tests_properties(ptq PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800)
add_test(NAME ptq_real
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_ptq.py --octet $<TARGET_FILE:octet> --real)
set_tests_properties(ptq_real PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 3600 LABELS slow)
