# Included by the top-level Makefile after the generic $(BUILD)/utils/% rule.
# holecopy uses util-linux's libmount (is a device mounted) and libblkid
# (the whole disk of a partition); seekmap uses nlohmann-json (header only).
$(HOLECOPY): utils/holecopy.cc utils/seek_map.cc utils/seek_map.h
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -o $@ $< utils/seek_map.cc -lmount -lblkid
