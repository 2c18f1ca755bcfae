function libs = __labcam_libs__()
% Registry of libraries loaded by this Octave loadlibrary (a handle object shared by all).
  persistent registry;
  if isempty(registry)
    registry = containers.Map();
  end
  libs = registry;
end
