classdef libpointer < handle
% LIBPOINTER  A pointer argument for calllib (GNU Octave implementation of MATLAB's class):
%   p = libpointer('uint16Ptr', zeros(1, n, 'uint16')); calllib(lib, f, p, ...); p.Value
% calllib passes p.Value by address and stores the value after the call back in p.Value.
  properties
    DataType = 'voidPtr';
    Value = [];
  end
  methods
    function p = libpointer(type, value)
      if nargin >= 1
        p.DataType = type;
      end
      if nargin >= 2
        p.Value = value;
      end
    end
    function p = setdatatype(p, type, varargin)
      p.DataType = type;
    end
  end
end
