function name = load()
% LABCAM.LOAD  Load the labcam shared library with its header (once); returns the library
% name for calllib ('labcam'). The library and header are found through the environment
% variables LABCAM_LIB and LABCAM_HEADER, else next to this package (lib/ and include/ of an
% installation, or a labcam source tree's target/release, target/debug and include/).
  name = 'labcam';
  if libisloaded(name)
    return;
  end
  here = fileparts(fileparts(mfilename('fullpath')));   % bindings/matlab
  root = fileparts(fileparts(here));                     % the source tree or prefix
  if ispc, file = 'labcam.dll'; elseif ismac, file = 'liblabcam.dylib'; else, file = 'liblabcam.so'; end
  lib = getenv('LABCAM_LIB');
  if isempty(lib)
    candidates = {fullfile(here, file), fullfile(root, 'lib', file), fullfile(root, 'target', 'release', file), fullfile(root, 'target', 'debug', file)};
    lib = first_existing(candidates, 'the labcam library (set LABCAM_LIB)');
  end
  header = getenv('LABCAM_HEADER');
  if isempty(header)
    header = first_existing({fullfile(here, 'labcam.h'), fullfile(root, 'include', 'labcam.h')}, 'labcam.h (set LABCAM_HEADER)');
  end
  loadlibrary(lib, header, 'alias', name);
end

function p = first_existing(candidates, what)
  for k = 1:numel(candidates)
    if exist(candidates{k}, 'file')
      p = candidates{k};
      return;
    end
  end
  error('labcam:LIBRARY_LOAD', 'cannot find %s; tried: %s', what, strjoin(candidates, ', '));
end
