# The HTML report (src/io/report_html.c, issue 7). include()d from
# tests/CMakeLists.txt after OCT_TEST_INC and OCT_WARN are set.
#
#   report_html      the fixture tests/data/analysis_small.json and degenerate
#                    documents rendered and the pages checked (< 1 s)
#   report_chromium  the fixture's page loaded in headless Chromium: no
#                    console message, the sections in the DOM, the sorting
#                    script ran (a few seconds; skipped without chromium)
add_executable(test_report_html ${CMAKE_CURRENT_LIST_DIR}/test_report_html.c)
target_include_directories(test_report_html PRIVATE ${OCT_TEST_INC})
target_compile_options(test_report_html PRIVATE ${OCT_WARN})
target_link_libraries(test_report_html PRIVATE octet_core)
add_test(NAME report_html
  COMMAND test_report_html ${CMAKE_CURRENT_LIST_DIR}/data/analysis_small.json
          ${CMAKE_CURRENT_BINARY_DIR}/report_tmp)
add_test(NAME report_chromium
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/report_chromium.sh $<TARGET_FILE:test_report_html>
          ${CMAKE_CURRENT_LIST_DIR}/data/analysis_small.json ${CMAKE_CURRENT_BINARY_DIR}/report_tmp)
set_tests_properties(report_html PROPERTIES TIMEOUT 120)
set_tests_properties(report_chromium PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 180)
