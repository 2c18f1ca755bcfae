function unloadlibrary(name)
% UNLOADLIBRARY  Forget a library loaded with loadlibrary (GNU Octave implementation). The code
% stays mapped: labcam does not support being unloaded from a running process.
  libs = __labcam_libs__();
  if isKey(libs, name)
    remove(libs, name);
  end
end
