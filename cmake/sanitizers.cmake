# JAMJET_SANITIZE=address -> ASan + UBSan; JAMJET_SANITIZE=thread -> TSan.
if(JAMJET_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(JAMJET_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT JAMJET_SANITIZE STREQUAL "")
  message(FATAL_ERROR "JAMJET_SANITIZE must be empty, 'address' or 'thread'")
endif()
