# octet analyze / tune (issue 7). include()d from tests/CMakeLists.txt.
#   analyze_tune   mobilenetv2-12 on six images: the analysis document, the
#                  sensitivity rankings against full runs, the report, tune's
#                  targets and bad input (about a minute)
add_test(NAME analyze_tune
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/analyze_tune.py --octet $<TARGET_FILE:octet>)
set_tests_properties(analyze_tune PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800)
#   tune_yolov10n  the issue's case: yolov10n, 128 + 128 coco128 images,
#                  map50_95>=0.99*fp32 within 10% of the FLOPs (about 4 min;
#                  slow: the release build only)
add_test(NAME tune_yolov10n
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/tune_yolov10n.py --octet $<TARGET_FILE:octet>)
set_tests_properties(tune_yolov10n PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 3600 LABELS slow)
