# Evaluation tests (octet eval / detect, issue 6). Included from
# tests/CMakeLists.txt after OCT_TEST_INC, OCT_WARN, OCT_VENV_PYTHON and
# OCT_NEED are set.
#
#   eval_unit          mAP on hand-computed cases, decoders, label reader (< 1 s)
#   eval_cli           the CLI on a few images: bad input, fidelity, detect (~1 min)
#   eval_pycocotools   yolov10n + yolov5n on coco128 val (128 images, --coco)
#                      and yolov10n under a plan calibrated on 32 train2017
#                      images: agreement with pycocotools to 1e-4, and the
#                      FP32 reference mAPs within 0.005 (~6 min with oneDNN,
#                      ~30 min on the reference kernels)
#   eval_classify_ort  mobilenetv2-12 top-1/top-5 on imagenet500 equal ONNX
#                      Runtime's on the same inputs (~3 min)
#   eval_reference_labels  the reference mAPs again through the YOLO txt
#                      labels (~2 min with oneDNN, ~20 on the reference kernels)
add_executable(test_eval test_eval.c)
target_include_directories(test_eval PRIVATE ${OCT_TEST_INC})
target_compile_options(test_eval PRIVATE ${OCT_WARN})
target_link_libraries(test_eval PRIVATE octet_core)
add_test(NAME eval_unit COMMAND test_eval)

add_test(NAME eval_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/eval_cli.sh $<TARGET_FILE:octet>)
add_test(NAME eval_pycocotools
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/eval_vs_pycocotools.py
          --octet $<TARGET_FILE:octet> --check-reference --calibrate-count 32)
add_test(NAME eval_classify_ort
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/eval_reference.py
          --octet $<TARGET_FILE:octet> --parts classify)
add_test(NAME eval_reference_labels
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/eval_reference.py
          --octet $<TARGET_FILE:octet> --parts detect)

set_tests_properties(eval_unit eval_cli eval_pycocotools eval_classify_ort eval_reference_labels
  PROPERTIES SKIP_RETURN_CODE 77)
set_tests_properties(eval_cli PROPERTIES TIMEOUT 600 ENVIRONMENT OCT_PYTHON=${OCT_VENV_PYTHON})
set_tests_properties(eval_classify_ort PROPERTIES TIMEOUT 1800 LABELS eval)
set_tests_properties(eval_pycocotools eval_reference_labels PROPERTIES TIMEOUT 3600 LABELS "eval;slow")
if(OCT_SANITIZE)
  set_tests_properties(eval_cli PROPERTIES TIMEOUT 1800 ENVIRONMENT "OCT_SANITIZED=1;OCT_PYTHON=${OCT_VENV_PYTHON}")
endif()
